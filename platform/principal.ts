/** Who is calling, as the router vouches for it. */
export interface Principal {
  readonly id: string;
  readonly role: "CUSTOMER" | "ADMIN";
  /** OAuth-style scopes from the access token (`admin`, `customer`); `@requiresScopes` checks them. */
  readonly scopes: readonly string[];
}
