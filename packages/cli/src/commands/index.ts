import type { Command } from '../command.js';
import { bench } from './bench.js';
import { call } from './call.js';
import { describe } from './describe.js';
import { ping } from './ping.js';
import { pub } from './pub.js';
import { serve } from './serve.js';
import { stream } from './stream.js';
import { sub } from './sub.js';

/** Every subcommand, in the order `proto --help` lists them. */
export const COMMANDS: readonly Command[] = [call, stream, sub, pub, ping, describe, bench, serve];
