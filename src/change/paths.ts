// Where the change engine keeps its state. Every path can be moved by the environment, so that
// tests and each lab run get their own:
//   HAGW_DOCTOR_STATE_DIR  backups and manifests       (default /var/lib/hagw-doctor; changes/ID/ under it)
//   HAGW_DOCTOR_LOCK       the one-change-at-a-time lock (default /run/hagw-doctor.lock)
//   HAGW_DOCTOR_LOG        JSON-lines change log        (default /var/log/hagw-doctor.log)
//   HAGW_DOCTOR_ROOT       a scratch root prefixed to every path a file step writes, removes or
//                          backs up (default: none, i.e. "/"); for tests on a scratch directory
import path from 'node:path';

export interface ChangePaths {
  stateDir: string;
  changesDir: string;
  lock: string;
  log: string;
  /** '' for the real root */
  root: string;
}

export function changePaths(env: NodeJS.ProcessEnv = process.env): ChangePaths {
  const stateDir = env.HAGW_DOCTOR_STATE_DIR || '/var/lib/hagw-doctor';
  const root = env.HAGW_DOCTOR_ROOT && env.HAGW_DOCTOR_ROOT !== '/' ? path.resolve(env.HAGW_DOCTOR_ROOT) : '';
  return {
    stateDir,
    changesDir: path.join(stateDir, 'changes'),
    lock: env.HAGW_DOCTOR_LOCK || '/run/hagw-doctor.lock',
    log: env.HAGW_DOCTOR_LOG || '/var/log/hagw-doctor.log',
    root,
  };
}

/** The real location of a plan's file path (a plan always names absolute host paths). */
export function rooted(paths: ChangePaths, file: string): string {
  if (!path.isAbsolute(file)) throw new Error(`file path must be absolute: ${file}`);
  return paths.root ? path.join(paths.root, file) : file;
}

/** The environment variables that carry these paths to a child (the rollback timer). */
export function pathsEnv(paths: ChangePaths): Record<string, string> {
  return {
    HAGW_DOCTOR_STATE_DIR: paths.stateDir,
    HAGW_DOCTOR_LOCK: paths.lock,
    HAGW_DOCTOR_LOG: paths.log,
    ...(paths.root ? { HAGW_DOCTOR_ROOT: paths.root } : {}),
  };
}
