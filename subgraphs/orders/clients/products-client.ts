import {
  unexpectedAnswer,
  type ServiceClient,
  type ServiceResponse,
} from "../../../platform/service-client.ts";
import {
  isReservationCode,
  PRODUCTS_PATHS,
  RESERVATION_CODES,
  type Price,
  type ReservationCode,
} from "../../products/contract.ts";

export type ReserveOutcome =
  { ok: true } | { ok: false; code: ReservationCode; productId?: string };

const fieldOf = (body: unknown, name: string): unknown =>
  typeof body === "object" && body !== null
    ? (body as Record<string, unknown>)[name]
    : undefined;

/**
 * The one place the products service's answers are decoded (the server maps its outcomes onto
 * them in `subgraphs/products/internal-api.ts`). Anything else is unexpected.
 */
export const decodeProducts = {
  reserve(answer: ServiceResponse): ReserveOutcome {
    const { status, body } = answer;
    if (status === 200 || status === 201) return { ok: true };
    if (status === 409 || status === 404) {
      const code = fieldOf(body, "code") ?? RESERVATION_CODES.notFound;
      const productId = fieldOf(body, "productId");
      if (isReservationCode(code))
        return {
          ok: false,
          code,
          ...(typeof productId === "string" ? { productId } : {}),
        };
    }
    throw unexpectedAnswer("products", PRODUCTS_PATHS.reserve, answer);
  },
  commit(answer: ServiceResponse): "committed" | "released" {
    if (answer.status === 200) return "committed";
    if (answer.status === 409 || answer.status === 404) return "released";
    throw unexpectedAnswer("products", PRODUCTS_PATHS.commit, answer);
  },
  release(answer: ServiceResponse): void {
    if (answer.status !== 200)
      throw unexpectedAnswer("products", PRODUCTS_PATHS.release, answer);
  },
};

/**
 * The products service's internal API as the saga sees it. Unavailability throws
 * ServiceUnavailableError; any other answer than the ones below throws ServiceRefusedError.
 */
export function createProductsClient(client: Pick<ServiceClient, "call">) {
  return {
    async quote(productIds: string[]): Promise<Price[]> {
      const answer = await client.call<{ prices: Price[] }>({
        method: "POST",
        path: PRODUCTS_PATHS.prices,
        body: { productIds },
        retry: true,
      });
      if (answer.status !== 200)
        throw unexpectedAnswer("products", PRODUCTS_PATHS.prices, answer);
      return answer.body.prices;
    },
    async reserve(
      reservationId: string,
      userId: string,
      items: Array<{ productId: string; quantity: number }>,
    ): Promise<ReserveOutcome> {
      // Retrying is safe: the reservation id makes a repeated reserve return the first one's result.
      return decodeProducts.reserve(
        await client.call({
          method: "POST",
          path: PRODUCTS_PATHS.reserve,
          body: { reservationId, userId, items },
          retry: true,
        }),
      );
    },
    async commit(reservationId: string): Promise<"committed" | "released"> {
      return decodeProducts.commit(
        await client.call({
          method: "POST",
          path: PRODUCTS_PATHS.commit,
          body: { reservationId },
          retry: true,
        }),
      );
    },
    async release(reservationId: string): Promise<void> {
      decodeProducts.release(
        await client.call({
          method: "POST",
          path: PRODUCTS_PATHS.release,
          body: { reservationId },
          retry: true,
        }),
      );
    },
  };
}

export type ProductsClient = ReturnType<typeof createProductsClient>;
