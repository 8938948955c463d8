import { ARCH, packagedBinary } from "../binaries";

/**
 * opencode is installed as its platform package alone: the `opencode-ai` wrapper lists platform
 * packages this registry does not serve, which leaves a lock file that `npm ci` refuses.
 */
export const opencodeBinary = packagedBinary("opencode", `opencode-linux-${ARCH}`, "bin", "opencode");
