/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** How a notification reached the user. */
export type NotificationChannel =
  /** An email to the user's address. */
  | 'EMAIL'
  /** A text message to the user's phone. */
  | 'SMS'
  /** A push notification to the user's devices. */
  | 'PUSH';

/** Where an order is in its life. */
export type OrderStatus =
  /** Placed; stock and payment are being arranged. */
  | 'PENDING'
  /** Stock reserved and payment captured. */
  | 'CONFIRMED'
  /** Could not be completed; everything taken for it was given back. */
  | 'FAILED'
  /** Cancelled by the customer; payment refunded and stock released. */
  | 'CANCELLED';

/** One line of a new order. */
export type OrderItemInput = {
  /** The product to buy. */
  productId: string | number;
  /** How many units, 1 to 100. */
  quantity: number;
};

/** What placeOrder needs. */
export type PlaceOrderInput = {
  /** 1 to 50 items, each product once. */
  items: Array<OrderItemInput>;
  /** Chosen by the client, unique per order (e.g. a UUID): sending the same key again returns the same order and never charges twice. Reusing it for a different order is BAD_USER_INPUT. */
  idempotencyKey: string;
  /** Payment method token; required (a missing one is BAD_USER_INPUT on `input.paymentToken`: nullable in the schema only so that existing clients keep validating). Test cards: tok_visa (approved), tok_declined, tok_timeout, tok_error. */
  paymentToken?: string | null | undefined;
};

/** Where a payment is in its life. */
export type PaymentStatus =
  /** Being processed with the provider. */
  | 'PENDING'
  /** Funds held by the provider, not yet taken. */
  | 'AUTHORIZED'
  /** Funds taken. */
  | 'CAPTURED'
  /** The provider refused the payment. */
  | 'DECLINED'
  /** An authorization released without capture. */
  | 'VOIDED'
  /** Captured funds returned to the customer. */
  | 'REFUNDED'
  /** The provider could not be reached or failed; nothing was taken. */
  | 'FAILED';

/** A new catalogue entry. */
export type CreateProductInput = {
  /** Unique stock-keeping unit: 1 to 64 letters, digits, `-` or `_`. */
  sku: string;
  /** Display name, 1 to 200 characters. */
  name: string;
  /** Longer text, at most 5000 characters. */
  description?: string | null | undefined;
  /** Unit price, 0.01 to 100000000.00 (what one payment may be: a price payments could not charge is refused). */
  price: string;
  /** ISO 4217 currency code; only "USD" is sold today. */
  currency?: string | null | undefined;
  /** Units in stock at creation, 0 to 1000000. */
  inventory?: number | null | undefined;
};

/** What a user may do: customers shop, admins also manage the catalogue and refunds. */
export type Role =
  /** Shops: browses products, places and cancels own orders. */
  | 'CUSTOMER'
  /** Manages products, stock and refunds. */
  | 'ADMIN';

/** What a new account needs. */
export type SignUpInput = {
  /** Login email; must be unique. */
  email: string;
  /** Display name, 1 to 100 characters. */
  name: string;
  /** At least 8 characters. */
  password: string;
};

export type SignUpMutationVariables = Exact<{
  input: SignUpInput;
}>;


export type SignUpMutation = { signUp: { token: string, user: { id: string, email: string, name: string, role: Role } } };

export type LogInMutationVariables = Exact<{
  email: string;
  password: string;
}>;


export type LogInMutation = { logIn: { token: string, user: { id: string, email: string, name: string, role: Role } } };

export type MyNotificationsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type MyNotificationsQuery = { me: { id: string, notifications: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, channel: NotificationChannel, subject: string, eventType: string, correlationId: string, deliveredAt: string } }> } } | null };

export type FollowMyNotificationsSubscriptionVariables = Exact<{ [key: string]: never; }>;


export type FollowMyNotificationsSubscription = { myNotifications: { id: string, channel: NotificationChannel, subject: string, eventType: string, correlationId: string, deliveredAt: string, user: { name: string } } };

export type RestockProductMutationVariables = Exact<{
  id: string | number;
  quantity: number;
}>;


export type RestockProductMutation = { restockProduct: { id: string, sku: string, inventory: number, inStock: boolean } };

export type RefundPaymentMutationVariables = Exact<{
  id: string | number;
}>;


export type RefundPaymentMutation = { refundPayment: { id: string, status: PaymentStatus, amount: string, currency: string, order: { id: string, status: OrderStatus } } };

export type CreateProductMutationVariables = Exact<{
  input: CreateProductInput;
}>;


export type CreateProductMutation = { createProduct: { id: string, sku: string, name: string, price: string, currency: string, inventory: number } };

export type OrderDetailsFragment = { id: string, status: OrderStatus, total: string, currency: string, createdAt: string, failureCode: string | null, items: Array<{ quantity: number, unitPrice: string, product: { id: string, name: string, price: string } | null }>, payment: { id: string, status: PaymentStatus, amount: string, currency: string } | null };

export type PlaceOrderMutationVariables = Exact<{
  input: PlaceOrderInput;
}>;


export type PlaceOrderMutation = { placeOrder: { id: string, status: OrderStatus, total: string, currency: string, createdAt: string, failureCode: string | null, items: Array<{ quantity: number, unitPrice: string, product: { id: string, name: string, price: string } | null }>, payment: { id: string, status: PaymentStatus, amount: string, currency: string } | null } };

export type CancelOrderMutationVariables = Exact<{
  id: string | number;
}>;


export type CancelOrderMutation = { cancelOrder: { id: string, status: OrderStatus, payment: { id: string, status: PaymentStatus } | null } };

export type MyOrdersQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type MyOrdersQuery = { me: { id: string, orders: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ node: { id: string, status: OrderStatus, total: string, currency: string, createdAt: string, failureCode: string | null, items: Array<{ quantity: number, unitPrice: string, product: { id: string, name: string, price: string } | null }>, payment: { id: string, status: PaymentStatus, amount: string, currency: string } | null } }> } } | null };

export type OrderQueryVariables = Exact<{
  id: string | number;
}>;


export type OrderQuery = { order: { id: string, status: OrderStatus, total: string, currency: string, createdAt: string, failureCode: string | null, user: { id: string, name: string, email: string } | null, items: Array<{ quantity: number, unitPrice: string, product: { id: string, name: string, price: string } | null }>, payment: { id: string, status: PaymentStatus, amount: string, currency: string } | null } | null };

export type FollowOrderSubscriptionVariables = Exact<{
  id?: string | number | null | undefined;
}>;


export type FollowOrderSubscription = { orderUpdated: { id: string, status: OrderStatus, failureCode: string | null, user: { name: string } | null, items: Array<{ quantity: number, product: { name: string } | null }>, payment: { status: PaymentStatus } | null } };

export type BrowseProductsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  search?: string | null | undefined;
}>;


export type BrowseProductsQuery = { products: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, name: string, price: string, currency: string, inStock: boolean } }> } };

export type ProductPageQueryVariables = Exact<{
  id: string | number;
}>;


export type ProductPageQuery = { product: { id: string, sku: string, name: string, description: string, price: string, currency: string, inventory: number, inStock: boolean } | null };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const OrderDetailsFragmentDoc = new TypedDocumentString(`
    fragment OrderDetails on Order {
  id
  status
  total
  currency
  createdAt
  failureCode
  items {
    quantity
    unitPrice
    product {
      id
      name
      price
    }
  }
  payment {
    id
    status
    amount
    currency
  }
}
    `, {"fragmentName":"OrderDetails"}) as unknown as TypedDocumentString<OrderDetailsFragment, unknown>;
export const SignUpDocument = new TypedDocumentString(`
    mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) {
    token
    user {
      id
      email
      name
      role
    }
  }
}
    `) as unknown as TypedDocumentString<SignUpMutation, SignUpMutationVariables>;
export const LogInDocument = new TypedDocumentString(`
    mutation LogIn($email: String!, $password: String!) {
  logIn(email: $email, password: $password) {
    token
    user {
      id
      email
      name
      role
    }
  }
}
    `) as unknown as TypedDocumentString<LogInMutation, LogInMutationVariables>;
export const MyNotificationsDocument = new TypedDocumentString(`
    query MyNotifications($first: Int = 20, $after: String) {
  me {
    id
    notifications(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          channel
          subject
          eventType
          correlationId
          deliveredAt
        }
      }
    }
  }
}
    `) as unknown as TypedDocumentString<MyNotificationsQuery, MyNotificationsQueryVariables>;
export const FollowMyNotificationsDocument = new TypedDocumentString(`
    subscription FollowMyNotifications {
  myNotifications {
    id
    channel
    subject
    eventType
    correlationId
    deliveredAt
    user {
      name
    }
  }
}
    `) as unknown as TypedDocumentString<FollowMyNotificationsSubscription, FollowMyNotificationsSubscriptionVariables>;
export const RestockProductDocument = new TypedDocumentString(`
    mutation RestockProduct($id: ID!, $quantity: Int!) {
  restockProduct(id: $id, quantity: $quantity) {
    id
    sku
    inventory
    inStock
  }
}
    `) as unknown as TypedDocumentString<RestockProductMutation, RestockProductMutationVariables>;
export const RefundPaymentDocument = new TypedDocumentString(`
    mutation RefundPayment($id: ID!) {
  refundPayment(id: $id) {
    id
    status
    amount
    currency
    order {
      id
      status
    }
  }
}
    `) as unknown as TypedDocumentString<RefundPaymentMutation, RefundPaymentMutationVariables>;
export const CreateProductDocument = new TypedDocumentString(`
    mutation CreateProduct($input: CreateProductInput!) {
  createProduct(input: $input) {
    id
    sku
    name
    price
    currency
    inventory
  }
}
    `) as unknown as TypedDocumentString<CreateProductMutation, CreateProductMutationVariables>;
export const PlaceOrderDocument = new TypedDocumentString(`
    mutation PlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    ...OrderDetails
  }
}
    fragment OrderDetails on Order {
  id
  status
  total
  currency
  createdAt
  failureCode
  items {
    quantity
    unitPrice
    product {
      id
      name
      price
    }
  }
  payment {
    id
    status
    amount
    currency
  }
}`) as unknown as TypedDocumentString<PlaceOrderMutation, PlaceOrderMutationVariables>;
export const CancelOrderDocument = new TypedDocumentString(`
    mutation CancelOrder($id: ID!) {
  cancelOrder(id: $id) {
    id
    status
    payment {
      id
      status
    }
  }
}
    `) as unknown as TypedDocumentString<CancelOrderMutation, CancelOrderMutationVariables>;
export const MyOrdersDocument = new TypedDocumentString(`
    query MyOrders($first: Int = 20, $after: String) {
  me {
    id
    orders(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          ...OrderDetails
        }
      }
    }
  }
}
    fragment OrderDetails on Order {
  id
  status
  total
  currency
  createdAt
  failureCode
  items {
    quantity
    unitPrice
    product {
      id
      name
      price
    }
  }
  payment {
    id
    status
    amount
    currency
  }
}`) as unknown as TypedDocumentString<MyOrdersQuery, MyOrdersQueryVariables>;
export const OrderDocument = new TypedDocumentString(`
    query Order($id: ID!) {
  order(id: $id) {
    ...OrderDetails
    user {
      id
      name
      email
    }
  }
}
    fragment OrderDetails on Order {
  id
  status
  total
  currency
  createdAt
  failureCode
  items {
    quantity
    unitPrice
    product {
      id
      name
      price
    }
  }
  payment {
    id
    status
    amount
    currency
  }
}`) as unknown as TypedDocumentString<OrderQuery, OrderQueryVariables>;
export const FollowOrderDocument = new TypedDocumentString(`
    subscription FollowOrder($id: ID) {
  orderUpdated(id: $id) {
    id
    status
    failureCode
    user {
      name
    }
    items {
      quantity
      product {
        name
      }
    }
    payment {
      status
    }
  }
}
    `) as unknown as TypedDocumentString<FollowOrderSubscription, FollowOrderSubscriptionVariables>;
export const BrowseProductsDocument = new TypedDocumentString(`
    query BrowseProducts($first: Int = 20, $after: String, $search: String) {
  products(first: $first, after: $after, search: $search) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      cursor
      node {
        id
        name
        price
        currency
        inStock
      }
    }
  }
}
    `) as unknown as TypedDocumentString<BrowseProductsQuery, BrowseProductsQueryVariables>;
export const ProductPageDocument = new TypedDocumentString(`
    query ProductPage($id: ID!) {
  product(id: $id) {
    id
    sku
    name
    description
    price
    currency
    inventory
    inStock
  }
}
    `) as unknown as TypedDocumentString<ProductPageQuery, ProductPageQueryVariables>;
