import type { ReactNode } from "react";

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: ReactNode;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <header className="flex min-h-14 items-center justify-between gap-4 border-b border-border px-6 py-3">
      <div className="min-w-0">
        <h1 className="truncate text-[15px] font-semibold">{title}</h1>
        {description && <p className="truncate text-xs text-fg-muted">{description}</p>}
      </div>
      {actions && <div className="flex shrink-0 items-center gap-2">{actions}</div>}
    </header>
  );
}

export function EmptyState({
  icon,
  title,
  body,
  action,
}: {
  icon?: ReactNode;
  title: string;
  body?: ReactNode;
  action?: ReactNode;
}) {
  return (
    <div className="flex flex-col items-center justify-center gap-2 px-6 py-20 text-center">
      {icon && <div className="text-fg-subtle">{icon}</div>}
      <h2 className="text-sm font-medium">{title}</h2>
      {body && <p className="max-w-sm text-xs text-fg-muted">{body}</p>}
      {action && <div className="mt-2">{action}</div>}
    </div>
  );
}

export function Section({
  title,
  description,
  children,
  id,
}: {
  title: string;
  description?: ReactNode;
  children: ReactNode;
  id?: string;
}) {
  return (
    <section
      aria-labelledby={id ? `${id}-title` : undefined}
      className="grid gap-6 border-b border-border py-6 md:grid-cols-[220px_1fr]"
    >
      <div>
        <h2 id={id ? `${id}-title` : undefined} className="text-[13px] font-medium">
          {title}
        </h2>
        {description && <p className="mt-1 text-xs text-fg-muted">{description}</p>}
      </div>
      <div className="flex min-w-0 flex-col gap-4">{children}</div>
    </section>
  );
}
