/**
 * velocityjs configured to evaluate templates as API Gateway does. API Gateway runs
 * Apache Velocity 1.7 with its own settings; velocityjs follows JavaScript where they
 * differ. Every override below delegates evaluation to the library and only changes
 * what a value means at one point (how it prints, how it compares, whether `#set`
 * takes it, whether `#if` holds), each pinned to a recorded AWS answer or the
 * Velocity 1.7 user guide (velocity.apache.org/engine/1.7/user-guide.html):
 *
 * - A null reference renders empty (recorded), not as its literal `$name`.
 * - Lists and maps render as JSON (recorded: `[{"foo":"bar"}]`), not `[{foo=bar}]`.
 * - `null == ""` is true and `[] == ""` false (recorded); otherwise Velocity 1.7's
 *   ASTEQNode: numbers compare by value, the same type by equality, other pairs by
 *   their printed text.
 * - `#set($x = <null>)` leaves `$x` as it was (Velocity 1.7 default,
 *   `directive.set.null.allowed = false`); velocityjs would unset it.
 * - `#if($x)` is false only for null and false (user guide, "Conditionals"): `""`
 *   and `0` are true, unlike JavaScript. `&&`, `||` and `!` use the same truth.
 */
import { Compile } from 'velocityjs';

type Ast = { type: string; operator?: string; expression?: Ast[]; condition?: Ast; equal?: [Ast, Ast] };

/** Thrown by the value mapper to make velocityjs skip a `#set` whose value is null. */
const nullAssignment = Symbol('nullAssignment');
/** A math node the stand-in adds around an `#if` condition: Velocity's truth of it. */
const truthOperator = 'velocity-truth';

const isNull = (value: unknown) => value === undefined || value === null;
const velocityTrue = (value: unknown) => !isNull(value) && value !== false;
const isJsonContainer = (value: unknown): value is object =>
  Array.isArray(value) || (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype);

/** How a value prints in a template. */
function velocityText(value: unknown): string {
  if (isNull(value)) return '';
  if (isJsonContainer(value)) return JSON.stringify(value);
  return String(value);
}

/** `==` as API Gateway's Velocity answers it. */
function velocityEquals(left: unknown, right: unknown): boolean {
  if (isNull(left) || isNull(right)) {
    if (isNull(left) && isNull(right)) return true;
    // Recorded: a null reference equals "" (and only the empty string).
    return (isNull(left) ? right : left) === '';
  }
  if (typeof left === 'number' && typeof right === 'number') return left === right;
  if (typeof left === typeof right && !isJsonContainer(left) && !isJsonContainer(right)) return left === right;
  return velocityText(left) === velocityText(right);
}

export class ApiGatewayVelocity extends Compile {
  constructor(...args: ConstructorParameters<typeof Compile>) {
    super(args[0], {
      ...args[1],
      valueMapper: (value: unknown) => {
        if (isNull(value)) throw nullAssignment;
        return value;
      },
    });
  }

  /** Renders with undefined references silent (they print empty, as on AWS). */
  renderTemplate(context: Record<string, unknown>): string {
    return this.render(context, undefined, true);
  }

  protected override getReferences(ast: never, isVal?: boolean): string {
    const value: unknown = super.getReferences(ast, isVal);
    // isVal: the reference is printed (in the template or a "..." string), not used as a value.
    return (isVal ? velocityText(value) : value) as string;
  }

  protected override setValue(ast: never): void {
    try {
      super.setValue(ast);
    } catch (error) {
      if (error !== nullAssignment) throw error;
    }
  }

  protected override getExpression(node: never): string {
    const ast = node as Ast;
    if (ast.type === 'math' && ast.expression) {
      const [a, b] = ast.expression as [never, never];
      const evaluate = (x: never): unknown => this.getExpression(x);
      switch (ast.operator) {
        case '==':
          return velocityEquals(evaluate(a), evaluate(b)) as never;
        case '!=':
          return !velocityEquals(evaluate(a), evaluate(b)) as never;
        case '&&':
          return (velocityTrue(evaluate(a)) && velocityTrue(evaluate(b))) as never;
        case '||':
          return (velocityTrue(evaluate(a)) || velocityTrue(evaluate(b))) as never;
        case 'not':
          return !velocityTrue(evaluate(a)) as never;
        case truthOperator:
          return velocityTrue(evaluate(a)) as never;
      }
    }
    return super.getExpression(node);
  }

  /** velocityjs tests `!!condition`; wrap each condition once so Velocity's truth decides. */
  protected getBlockIf(block: Ast[]): string {
    for (const branch of block) {
      if ((branch.type === 'if' || branch.type === 'elseif') && branch.condition && branch.condition.operator !== truthOperator) {
        branch.condition = { type: 'math', operator: truthOperator, expression: [branch.condition] };
      }
    }
    return (Compile.prototype as unknown as { getBlockIf(block: Ast[]): string }).getBlockIf.call(this, block);
  }
}
