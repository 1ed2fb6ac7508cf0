/** The argument that makes the CLI's entry run the agent's overdue-backup watch, not a command. */
export const OVERDUE_PROCESS_ARG = '__overdue-watch';
