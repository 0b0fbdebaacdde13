// ARM custom blocklists (accounts/{a}/raiBlocklists) and their items (…/raiBlocklistItems), with
// the batch actions addRaiBlocklistItems (a bare array of items → the blocklist) and
// deleteRaiBlocklistItems (a bare array of names → 204). Reference azure-api-2.md §1.1, §1.3.
import { errors } from "../../core/errors.ts";
import type { AccountRecord } from "../../core/ports/index.ts";
import type { RaiBlocklistItemRecord, RaiBlocklistRecord } from "../../core/ports/rai-store.ts";
import { ACCOUNT, objectOf, op } from "./kit.ts";
import type { ArmKit } from "./kit.ts";
import { raiEtag, raiSystemData } from "./rai-policies.ts";
import { PROVIDER, accountId } from "./shapes.ts";

const BLOCKLIST = `${ACCOUNT}/raiBlocklists/:blocklist`;

export const raiBlocklistBody = (b: RaiBlocklistRecord, a: AccountRecord) => ({
  id: `${accountId(a)}/raiBlocklists/${b.name}`,
  name: b.name,
  type: `${PROVIDER}/accounts/raiBlocklists`,
  etag: raiEtag(b),
  tags: b.tags,
  systemData: raiSystemData(b.createdAt, b.updatedAt),
  properties: { description: b.description },
});

export const raiBlocklistItemBody = (i: RaiBlocklistItemRecord, a: AccountRecord) => ({
  id: `${accountId(a)}/raiBlocklists/${i.blocklist}/raiBlocklistItems/${i.name}`,
  name: i.name,
  type: `${PROVIDER}/accounts/raiBlocklists/raiBlocklistItems`,
  etag: raiEtag(i),
  systemData: raiSystemData(i.createdAt, i.updatedAt),
  properties: { pattern: i.pattern, isRegex: i.isRegex },
});

export function registerRaiBlocklistRoutes(kit: ArmKit): void {
  const { ctx, route, account } = kit;
  const read = op("accounts/raiBlocklists", "read");
  const write = op("accounts/raiBlocklists", "write");
  const blocklistOf = (a: AccountRecord, name: string) => {
    const b = ctx.rai.blocklists.get(a.name, name);
    if (!b) throw errors.resourceNotFound(`${PROVIDER}/accounts/raiBlocklists`, `${a.name}/${name}`, a.resourceGroup);
    return b;
  };

  route("GET", `${ACCOUNT}/raiBlocklists`, ({ principal, params }) => {
    const a = account(principal, params, "read", read);
    return { value: ctx.rai.blocklists.list(a.name).map((b) => raiBlocklistBody(b, a)) };
  });
  route("GET", BLOCKLIST, ({ principal, params }) => {
    const a = account(principal, params, "read", read);
    return raiBlocklistBody(blocklistOf(a, params.blocklist), a);
  });
  route("PUT", BLOCKLIST, ({ principal, params, body, reply }) => {
    const a = account(principal, params, "accountWrite", write);
    const props = objectOf(body?.properties) ?? {};
    const { blocklist, created } = ctx.rai.blocklists.createOrUpdate(a.name, params.blocklist, { description: props.description, tags: objectOf(body?.tags) as Record<string, string> | undefined });
    reply.code(created ? 201 : 200);
    return raiBlocklistBody(blocklist, a);
  });
  route("DELETE", BLOCKLIST, ({ principal, params, reply }) => {
    const a = account(principal, params, "accountWrite", op("accounts/raiBlocklists", "delete"));
    return reply.code(ctx.rai.blocklists.delete(a.name, params.blocklist) ? 200 : 204).send();
  });

  route("GET", `${BLOCKLIST}/raiBlocklistItems`, ({ principal, params }) => {
    const a = account(principal, params, "read", read);
    const b = blocklistOf(a, params.blocklist);
    return { value: ctx.rai.blocklists.listItems(a.name, b.name).map((i) => raiBlocklistItemBody(i, a)) };
  });
  route("GET", `${BLOCKLIST}/raiBlocklistItems/:item`, ({ principal, params }) => {
    const a = account(principal, params, "read", read);
    const b = blocklistOf(a, params.blocklist);
    const i = ctx.rai.blocklists.getItem(a.name, b.name, params.item);
    if (!i) throw errors.resourceNotFound(`${PROVIDER}/accounts/raiBlocklists/raiBlocklistItems`, `${a.name}/${b.name}/${params.item}`, a.resourceGroup);
    return raiBlocklistItemBody(i, a);
  });
  route("PUT", `${BLOCKLIST}/raiBlocklistItems/:item`, ({ principal, params, body, reply }) => {
    const a = account(principal, params, "accountWrite", write);
    const b = blocklistOf(a, params.blocklist);
    const props = objectOf(body?.properties) ?? {};
    const { item, created } = ctx.rai.blocklists.putItem(a.name, b.name, params.item, { pattern: props.pattern, isRegex: props.isRegex });
    reply.code(created ? 201 : 200);
    return raiBlocklistItemBody(item, a);
  });
  route("DELETE", `${BLOCKLIST}/raiBlocklistItems/:item`, ({ principal, params, reply }) => {
    const a = account(principal, params, "accountWrite", write);
    const b = blocklistOf(a, params.blocklist);
    return reply.code(ctx.rai.blocklists.deleteItem(a.name, b.name, params.item) ? 200 : 204).send();
  });
  route(
    "POST",
    `${BLOCKLIST}/addRaiBlocklistItems`,
    ({ principal, params, body }) => {
      const a = account(principal, params, "accountWrite", write);
      const b = blocklistOf(a, params.blocklist);
      return raiBlocklistBody(ctx.rai.blocklists.addItems(a.name, b.name, body), a);
    },
    { arrayBody: true },
  );
  route(
    "POST",
    `${BLOCKLIST}/deleteRaiBlocklistItems`,
    ({ principal, params, body, reply }) => {
      const a = account(principal, params, "accountWrite", write);
      const b = blocklistOf(a, params.blocklist);
      ctx.rai.blocklists.deleteItems(a.name, b.name, body);
      return reply.code(204).send();
    },
    { arrayBody: true },
  );
}
