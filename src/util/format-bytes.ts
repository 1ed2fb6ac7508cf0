const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** "12 B", "3.40 MiB", "1.2 TiB": for output and for messages the core writes. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
}
