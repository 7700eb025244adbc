/** RFC 9457 problem details, as every API error is returned. */
export interface ProblemField {
  /** JSON-pointer-like location, e.g. `body/content`, `query/limit`, `params/id`. */
  field: string;
  message: string;
}

export interface Problem {
  /** Stable URI naming the error kind, e.g. `urn:cortex:problem:validation`. */
  type: string;
  title: string;
  status: number;
  /** Stable machine code, e.g. `validation`, `not_found`. */
  code: string;
  detail?: string;
  instance?: string;
  errors?: ProblemField[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Thrown by `CortexClient.request` when the API answers with a problem. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(`${problem.status} ${problem.code}: ${problem.detail ?? problem.title}`);
    this.name = 'ApiError';
    this.status = problem.status;
    this.problem = problem;
  }
}
