/** A route option's hooks (absent, one, or a list) as a list, so a plugin can add its own. */
export function hookList<T>(hooks: T | T[] | undefined): T[] {
  return hooks === undefined ? [] : Array.isArray(hooks) ? hooks : [hooks];
}
