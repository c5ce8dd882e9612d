export interface Bench {
  readonly name: string;
  readonly summary: string;
  run(): Promise<void>;
}

/** Every benchmark; bench modules append their entry here. */
export const BENCHES: Bench[] = [];
