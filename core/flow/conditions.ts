/** Evaluates a condition node's rules against flow variables. Pure: workflow code uses it. */
export interface ConditionRule {
  variable: string;
  operator: 'equals' | 'not_equals' | 'contains' | 'greater_than' | 'less_than' | 'is_set' | 'is_not_set' | 'matches';
  value: string;
}

export function ruleHolds(rule: ConditionRule, variables: Record<string, string>): boolean {
  const actual = variables[rule.variable];
  const a = actual ?? '';
  switch (rule.operator) {
    case 'is_set':
      return actual !== undefined && actual !== '';
    case 'is_not_set':
      return actual === undefined || actual === '';
    case 'equals':
      return a.trim().toLowerCase() === rule.value.trim().toLowerCase();
    case 'not_equals':
      return a.trim().toLowerCase() !== rule.value.trim().toLowerCase();
    case 'contains':
      return a.toLowerCase().includes(rule.value.toLowerCase());
    case 'greater_than':
    case 'less_than': {
      const x = Number(a);
      const y = Number(rule.value);
      if (a.trim() === '' || !Number.isFinite(x) || !Number.isFinite(y)) return false;
      return rule.operator === 'greater_than' ? x > y : x < y;
    }
    case 'matches':
      try {
        return new RegExp(rule.value).test(a);
      } catch {
        return false;
      }
  }
}

export function conditionHolds(combinator: 'and' | 'or', rules: ConditionRule[], variables: Record<string, string>): boolean {
  return combinator === 'and' ? rules.every((r) => ruleHolds(r, variables)) : rules.some((r) => ruleHolds(r, variables));
}
