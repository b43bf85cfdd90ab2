/**
 * Process exit codes, keepalived's values (lib/scheduler.h `enum exit_code`), which follow
 * the LSB / systemd.exec(5) table. systemd/vigil.service uses CONFIG and NO_CONFIG in
 * RestartPreventExitStatus: a config error is permanent and must not be retried, a crash is.
 */
export const ExitCode = {
  OK: 0,
  /** EXIT_FAILURE: a fatal runtime error; systemd restarts the service */
  FATAL: 1,
  /** EXIT_INVALIDARGUMENT: the configuration (or command line) is invalid; not retried */
  CONFIG: 2,
  /** EXIT_NOPERMISSION: started without the privileges it needs */
  MISSING_PERMISSION: 4,
  /** EXIT_NOTCONFIGURED: the configuration file is missing or unreadable; not retried */
  NO_CONFIG: 6,
  /** EX_SOFTWARE: an internal error (a bug) */
  PROGRAM_ERROR: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
