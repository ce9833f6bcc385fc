/**
 * The products service's internal REST contract: paths, codes and body shapes shared by the server
 * (`internal-api.ts` maps domain outcomes onto them) and the orders saga's client (which decodes
 * them). Types and constants only, so the client never imports server code.
 */

export const PRODUCTS_PATHS = {
  /**
   * Prices alone. Orders no longer calls it (the reservation answers priced); it stays for one
   * release so orders instances of the previous one keep working during a rolling deploy.
   */
  prices: "/internal/prices",
  reserve: "/internal/reservations",
  commit: "/internal/reservations/commit",
  release: "/internal/reservations/release",
} as const;

export const RESERVATION_STATUSES = [
  "RESERVED",
  "COMMITTED",
  "RELEASED",
] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** The `code` of a refused reservation call. */
export const RESERVATION_CODES = {
  insufficientStock: "INSUFFICIENT_STOCK",
  released: "RESERVATION_RELEASED",
  notFound: "NOT_FOUND",
} as const;
export type ReservationCode =
  (typeof RESERVATION_CODES)[keyof typeof RESERVATION_CODES];

export interface Price {
  productId: string;
  unitPriceMinor: number;
  currency: string;
}

/** A reserved line: the units taken, at the price they were taken at. */
export interface ReservationItem extends Price {
  quantity: number;
}

/** The body of a successful reserve or commit. */
export interface ReservationBody {
  reservationId: string;
  status: ReservationStatus;
  items: ReservationItem[];
}

/** The body of a refused reservation call. */
export interface RefusalBody {
  code: ReservationCode;
  productId?: string;
  reservationId?: string;
  /** With INSUFFICIENT_STOCK: the current price of every product asked for, in the order asked. */
  prices?: Price[];
}

export function isReservationCode(value: unknown): value is ReservationCode {
  return Object.values(RESERVATION_CODES).some((code) => code === value);
}
