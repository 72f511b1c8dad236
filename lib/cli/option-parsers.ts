import { InvalidArgumentError } from 'commander';

/** commander parsers shared by the subcommands: each refuses bad text with a message naming the option. */
export const positiveInt = (name: string) => (v: string) => {
  if (!/^[1-9][0-9]*$/.test(v)) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return Number(v);
};

export const seedArg = (v: string) => {
  if (!/^[0-9]+$/.test(v) || BigInt(v) >= 2n ** 64n)
    throw new InvalidArgumentError('seed must be an integer in 0..2^64-1');
  return BigInt(v);
};

/** A number such as a guidance scale; whether a key can carry it is for the command to say. */
export const scaleArg = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
};
