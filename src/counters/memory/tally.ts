/** Calls made on the memory backend, for stats(); shared by its parts. */
export interface Tally {
  calls: number;
}
