/** Who is calling, as the router vouches for it. */
export interface Principal {
  readonly id: string;
  readonly role: 'CUSTOMER' | 'ADMIN';
}
