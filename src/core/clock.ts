/** The only way runtime and actor code learns the time. Threads: real; sim: virtual. */
export interface Clock {
  now(): number;
}
