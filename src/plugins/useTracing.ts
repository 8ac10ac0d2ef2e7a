import { useOnResolve } from '@envelop/on-resolve';
import { SpanStatusCode } from '@opentelemetry/api';
import { getOperationAST, type GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Tracing } from '../infra/tracing.js';

/**
 * OpenTelemetry spans of GraphQL: one per operation (under the HTTP
 * request's span) and one per root field (under the operation's), each
 * active while it runs so upstream calls nest below. Attributes: operation
 * name and type, field coordinates, error codes. Never the document or
 * variables. Installed only when tracing is on.
 */
export function useTracing(tracing: Tracing): Plugin {
  const operationSpan: Plugin['onExecute'] = ({ args, executeFn, setExecuteFn }) => {
    const ast = getOperationAST(args.document, args.operationName);
    const type = ast?.operation ?? 'unknown';
    const name = ast?.name?.value ?? 'anonymous';
    const { span, context } = tracing.child(`${type} ${name}`, { 'graphql.operation.type': type, 'graphql.operation.name': name });
    setExecuteFn((execArgs) => tracing.with(context, () => executeFn(execArgs)));
    return {
      onExecuteDone({ result }) {
        if (!isAsyncIterable(result) && result.errors?.length) {
          span.setAttribute('graphql.error.codes', codesOf(result.errors));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      },
    };
  };
  return {
    onExecute: operationSpan,
    onSubscribe: ({ args }) => {
      const ast = getOperationAST(args.document, args.operationName);
      const { span } = tracing.child(`subscription ${ast?.name?.value ?? 'anonymous'}`, { 'graphql.operation.type': 'subscription', 'graphql.operation.name': ast?.name?.value ?? 'anonymous' });
      return { onSubscribeResult: () => span.end(), onSubscribeError: () => span.end() };
    },
    onPluginInit({ addPlugin }) {
      addPlugin(
        useOnResolve(({ info, resolver, replaceResolver }) => {
          if (info.path.prev !== undefined || info.operation.operation === 'subscription') return;
          const coordinate = `${info.parentType.name}.${info.fieldName}`;
          const { span, context } = tracing.child(coordinate, { 'graphql.field.coordinate': coordinate, 'graphql.field.path': String(info.path.key) });
          replaceResolver((root, args, ctx, resolveInfo) => tracing.with(context, () => resolver(root, args, ctx, resolveInfo)));
          return ({ result }) => {
            if (result instanceof Error) {
              span.setAttribute('graphql.error.codes', codesOf([result as GraphQLError]));
              span.setStatus({ code: SpanStatusCode.ERROR });
            }
            span.end();
          };
        }),
      );
    },
  };
}

function codesOf(errors: readonly GraphQLError[]): string {
  return [...new Set(errors.map((e) => (typeof e.extensions?.code === 'string' ? e.extensions.code : 'INTERNAL_SERVER_ERROR')))].join(',');
}
