import type { RequestOptions } from './request-options.js';

/** Arguments after the method: params (optional when the params type admits undefined), then options. */
export type RequestArgs<P> = undefined extends P
  ? [params?: P, options?: RequestOptions]
  : [params: P, options?: RequestOptions];
