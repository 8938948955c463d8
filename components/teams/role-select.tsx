import { forwardRef, type SelectHTMLAttributes } from "react";

import { Select } from "@/components/ui/select";
import { WORKSPACE_ROLES } from "@/lib/schemas/roles";

import { ROLE_HINTS } from "./role-badge";

/** A native select of the three roles, weakest first; the caller labels it. */
export const RoleSelect = forwardRef<
  HTMLSelectElement,
  SelectHTMLAttributes<HTMLSelectElement> & { wrapperClassName?: string }
>(function RoleSelect(props, ref) {
  return (
    <Select ref={ref} {...props}>
      {WORKSPACE_ROLES.map((role) => (
        <option key={role} value={role} title={ROLE_HINTS[role]}>
          {role[0]!.toUpperCase() + role.slice(1)}
        </option>
      ))}
    </Select>
  );
});
