/* `npm start`: builds the app when no build exists or it is older than its sources, then serves it. */
import { ensureBuild } from "./build";

// Not an error (containers often run as root), but worth saying at every start.
if (process.getuid?.() === 0) {
  process.stderr.write(
    "Warning: Hangar is running as root. A sandbox's user is, on this host, the user Hangar runs as:\n" +
      "as root, a root-only file in what a sandbox sees (/usr, Hangar's install) is readable to the agent,\n" +
      "and anything that gets out of a sandbox is root. Run Hangar as a dedicated unprivileged user:\n" +
      'see "Running as an unprivileged user" in README.md.\n',
  );
}

ensureBuild();

await import("../server");
