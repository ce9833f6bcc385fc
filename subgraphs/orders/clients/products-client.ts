import {
  unexpectedAnswer,
  type ServiceClient,
  type ServiceResponse,
} from "../../../platform/service-client.ts";
import { expectOk, fieldOf, postIdempotent } from "./internal-call.ts";
import {
  isReservationCode,
  PRODUCTS_PATHS,
  RESERVATION_CODES,
  type Price,
  type ReservationCode,
  type ReservationItem,
} from "../../products/contract.ts";

/**
 * A reservation priced by products as it took the stock (one call prices and reserves); a refusal
 * for stock carries the prices too, so the refused order can be recorded at what it would cost.
 */
export type ReserveOutcome =
  | { ok: true; items: ReservationItem[] }
  | { ok: false; code: ReservationCode; productId?: string; prices?: Price[] };

/**
 * The one place the products service's answers are decoded (the server maps its outcomes onto
 * them in `subgraphs/products/internal-api.ts`). Anything else is unexpected.
 */
export const decodeProducts = {
  reserve(answer: ServiceResponse): ReserveOutcome {
    const { status, body } = answer;
    const items = fieldOf(body, "items");
    if ((status === 200 || status === 201) && Array.isArray(items))
      return { ok: true, items: items as ReservationItem[] };
    if (status === 409 || status === 404) {
      const code = fieldOf(body, "code") ?? RESERVATION_CODES.notFound;
      const productId = fieldOf(body, "productId");
      const prices = fieldOf(body, "prices");
      if (isReservationCode(code))
        return {
          ok: false,
          code,
          ...(typeof productId === "string" ? { productId } : {}),
          ...(Array.isArray(prices) ? { prices: prices as Price[] } : {}),
        };
    }
    throw unexpectedAnswer("products", PRODUCTS_PATHS.reserve, answer);
  },
  commit(answer: ServiceResponse): "committed" | "released" {
    if (answer.status === 200) return "committed";
    if (answer.status === 409 || answer.status === 404) return "released";
    throw unexpectedAnswer("products", PRODUCTS_PATHS.commit, answer);
  },
  release: (answer: ServiceResponse): void =>
    expectOk("products", PRODUCTS_PATHS.release, answer),
};

/**
 * The products service's internal API as the saga sees it. Unavailability throws
 * ServiceUnavailableError; any other answer than the ones below throws ServiceRefusedError.
 */
export function createProductsClient(client: Pick<ServiceClient, "call">) {
  return {
    async reserve(
      reservationId: string,
      userId: string,
      items: Array<{ productId: string; quantity: number }>,
    ): Promise<ReserveOutcome> {
      // Retrying is safe: the reservation id makes a repeated reserve return the first one's result.
      return decodeProducts.reserve(
        await postIdempotent(client, PRODUCTS_PATHS.reserve, {
          reservationId,
          userId,
          items,
        }),
      );
    },
    async commit(reservationId: string): Promise<"committed" | "released"> {
      return decodeProducts.commit(
        await postIdempotent(client, PRODUCTS_PATHS.commit, { reservationId }),
      );
    },
    async release(reservationId: string): Promise<void> {
      decodeProducts.release(
        await postIdempotent(client, PRODUCTS_PATHS.release, { reservationId }),
      );
    },
  };
}

export type ProductsClient = ReturnType<typeof createProductsClient>;
