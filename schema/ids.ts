import { encodeGlobalID } from '@pothos/plugin-relay';

/**
 * Node ids are Relay global ids (base64 of `Type:id`). Arguments accept either
 * the global id or the database id, so ids copied from logs and URLs work too.
 */
export function databaseId(id: string | number, typename: string): string {
  const text = String(id);
  try {
    const decoded = Buffer.from(text, 'base64').toString('utf8');
    if (decoded.startsWith(`${typename}:`)) return decoded.slice(typename.length + 1);
  } catch {
    // Not base64: a database id.
  }
  return text;
}

export const globalId = (typename: string, id: string) => encodeGlobalID(typename, id);

/**
 * Pothos builds `{ select: {} }` when a client selects only `__typename` of a
 * Prisma object, and Prisma rejects an empty select; drop it in that case.
 */
export function nonEmptyQuery<T extends object>(query: T): T {
  const select = (query as { select?: object }).select;
  if (select && Object.keys(select).length === 0) {
    const { select: _empty, ...rest } = query as T & { select?: object };
    return rest as T;
  }
  return query;
}
