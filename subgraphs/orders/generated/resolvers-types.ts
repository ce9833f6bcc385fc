import type { GraphQLResolveInfo, GraphQLScalarType, GraphQLScalarTypeConfig } from 'graphql';
import type { OrderView } from '../resolvers.ts';
export type Maybe<T> = T | null;
export type InputMaybe<T> = Maybe<T>;
export type Omit<T, K extends keyof T> = Pick<T, Exclude<keyof T, K>>;
export type RequireFields<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** An exact decimal amount serialised as a string, e.g. "19.99". */
  Decimal: { input: string; output: string; }
  /** An instant in ISO 8601 / RFC 3339 form, always UTC, e.g. "2026-11-24T13:55:50.000Z". */
  DateTime: { input: string; output: Date | string; }
  _FieldSet: { input: string; output: string; }
};

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

/** A customer's order. */
export type Order = {
  __typename?: 'Order';
  /** Stable identifier (UUID). */
  id: Scalars['ID']['output'];
  /**
   * The customer who placed it. Null only when the users service could not be reached (the
   * response then carries a SUBGRAPH_UNAVAILABLE or SUBGRAPH_TIMEOUT error naming it), so the rest
   * of the order still arrives.
   */
  user?: Maybe<User>;
  /** What was ordered, in the order given. */
  items: Array<OrderItem>;
  /** Where the order is in its life. */
  status: OrderStatus;
  /** Sum of quantity x unit price over the items. */
  total: Scalars['Decimal']['output'];
  /** ISO 4217 currency code of every amount of the order. */
  currency: Scalars['String']['output'];
  /** When it was placed. */
  createdAt: Scalars['DateTime']['output'];
  /** Why a FAILED order failed, as an error code (INSUFFICIENT_STOCK, PAYMENT_DECLINED, PAYMENT_FAILED, ORDER_REJECTED, SUBGRAPH_UNAVAILABLE...); null otherwise. */
  failureCode?: Maybe<Scalars['String']['output']>;
};

/** One line of an order. */
export type OrderItem = {
  __typename?: 'OrderItem';
  /**
   * The product ordered. Null only when the products service could not be reached (the response
   * then carries a SUBGRAPH_UNAVAILABLE or SUBGRAPH_TIMEOUT error naming it), so the rest of the
   * order still arrives.
   */
  product?: Maybe<Product>;
  /** How many units. */
  quantity: Scalars['Int']['output'];
  /** The product's price when the order was placed. */
  unitPrice: Scalars['Decimal']['output'];
};

/** A page of orders, newest first. */
export type OrderConnection = {
  __typename?: 'OrderConnection';
  /** The orders of this page with their cursors. */
  edges: Array<OrderEdge>;
  /** Where this page sits in the whole list. */
  pageInfo: PageInfo;
  /** How many orders there are, over all pages. */
  totalCount: Scalars['Int']['output'];
};

/** One order and the cursor to continue after it. */
export type OrderEdge = {
  __typename?: 'OrderEdge';
  /** Opaque; pass as `after` to get the orders that follow. */
  cursor: Scalars['String']['output'];
  /** The order. */
  node: Order;
};

/** Relay page information. */
export type PageInfo = {
  __typename?: 'PageInfo';
  /** Whether more items follow this page. */
  hasNextPage: Scalars['Boolean']['output'];
  /** Whether items precede this page. */
  hasPreviousPage: Scalars['Boolean']['output'];
  /** Cursor of the first item of the page. */
  startCursor?: Maybe<Scalars['String']['output']>;
  /** Cursor of the last item of the page. */
  endCursor?: Maybe<Scalars['String']['output']>;
};

/** A person with an account. */
export type User = {
  __typename?: 'User';
  /** Stable identifier (UUID). */
  id: Scalars['ID']['output'];
  /**
   * The user's orders, newest first. `first` is 0 to 1000 (default 20). Only the user themselves and
   * admins may list them (FORBIDDEN otherwise).
   */
  orders: OrderConnection;
};


/** A person with an account. */
export type UserOrdersArgs = {
  first?: InputMaybe<Scalars['Int']['input']>;
  after?: InputMaybe<Scalars['String']['input']>;
};

/** Something the shop sells. */
export type Product = {
  __typename?: 'Product';
  /** Stable identifier (UUID). */
  id: Scalars['ID']['output'];
};

export type Query = {
  __typename?: 'Query';
  /**
   * An order by id; NOT_FOUND when there is none. Customers see only their own orders (FORBIDDEN
   * otherwise); admins see all.
   */
  order?: Maybe<Order>;
};


export type QueryOrderArgs = {
  id: Scalars['ID']['input'];
};

/** One line of a new order. */
export type OrderItemInput = {
  /** The product to buy. */
  productId: Scalars['ID']['input'];
  /** How many units, 1 to 100. */
  quantity: Scalars['Int']['input'];
};

/** What placeOrder needs. */
export type PlaceOrderInput = {
  /** 1 to 50 items, each product once. */
  items: Array<OrderItemInput>;
  /** Chosen by the client, unique per order (e.g. a UUID): sending the same key again returns the same order and never charges twice. Reusing it for a different order is BAD_USER_INPUT. */
  idempotencyKey: Scalars['String']['input'];
  /** Payment method token; required (a missing one is BAD_USER_INPUT on `input.paymentToken`: nullable in the schema only so that existing clients keep validating). Test cards: tok_visa (approved), tok_declined, tok_timeout, tok_error. */
  paymentToken?: InputMaybe<Scalars['String']['input']>;
};

export type Mutation = {
  __typename?: 'Mutation';
  /** Places an order for the signed-in customer: reserves stock, takes payment and confirms it, or undoes everything and fails with a coded error (INSUFFICIENT_STOCK, PAYMENT_DECLINED, PAYMENT_FAILED, ORDER_REJECTED, SUBGRAPH_UNAVAILABLE). Returns a PENDING order when it could not finish in time; it completes in the background. */
  placeOrder: Order;
  /** Cancels a confirmed order of the signed-in customer: refunds the payment and returns the stock. */
  cancelOrder: Order;
};


export type MutationPlaceOrderArgs = {
  input: PlaceOrderInput;
};


export type MutationCancelOrderArgs = {
  id: Scalars['ID']['input'];
};

/**
 * Live updates, served by the router over WebSocket (graphql-transport-ws) or Server-Sent Events
 * (graphql-sse): each event is resolved like a query for the subscriber, with their own rights.
 */
export type Subscription = {
  __typename?: 'Subscription';
  /**
   * The order each time its status changes (PENDING when placed, then CONFIRMED, FAILED or
   * CANCELLED): one order by `id`, or every order of the signed-in customer when `id` is omitted (an
   * admin's covers every order). Any field of Order can be selected, from any subgraph; `status` is
   * the one the event reports. Customers follow only their own orders (FORBIDDEN otherwise).
   */
  orderUpdated: Order;
};


/**
 * Live updates, served by the router over WebSocket (graphql-transport-ws) or Server-Sent Events
 * (graphql-sse): each event is resolved like a query for the subscriber, with their own rights.
 */
export type SubscriptionOrderUpdatedArgs = {
  id?: InputMaybe<Scalars['ID']['input']>;
};



export type ResolverTypeWrapper<T> = Promise<T> | T;

export type ReferenceResolver<TResult, TReference, TContext> = (
      reference: TReference,
      context: TContext,
      info: GraphQLResolveInfo
    ) => Promise<TResult> | TResult;

      type ScalarCheck<T, S> = S extends true ? T : NullableCheck<T, S>;
      type NullableCheck<T, S> = Maybe<T> extends T ? Maybe<ListCheck<NonNullable<T>, S>> : ListCheck<T, S>;
      type ListCheck<T, S> = T extends (infer U)[] ? NullableCheck<U, S>[] : GraphQLRecursivePick<T, S>;
      export type GraphQLRecursivePick<T, S> = { [K in keyof T & keyof S]: ScalarCheck<T[K], S[K]> };
    

export type ResolverWithResolve<TResult, TParent, TContext, TArgs> = {
  resolve: ResolverFn<TResult, TParent, TContext, TArgs>;
};
export type Resolver<TResult, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = ResolverFn<TResult, TParent, TContext, TArgs> | ResolverWithResolve<TResult, TParent, TContext, TArgs>;

export type ResolverFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => Promise<TResult> | TResult;

export type SubscriptionSubscribeFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => AsyncIterable<TResult> | Promise<AsyncIterable<TResult>>;

export type SubscriptionResolveFn<TResult, TParent, TContext, TArgs> = (
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

export interface SubscriptionSubscriberObject<TResult, TKey extends string, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<{ [key in TKey]: TResult }, TParent, TContext, TArgs>;
  resolve?: SubscriptionResolveFn<TResult, { [key in TKey]: TResult }, TContext, TArgs>;
}

export interface SubscriptionResolverObject<TResult, TParent, TContext, TArgs> {
  subscribe: SubscriptionSubscribeFn<any, TParent, TContext, TArgs>;
  resolve: SubscriptionResolveFn<TResult, any, TContext, TArgs>;
}

export type SubscriptionObject<TResult, TKey extends string, TParent, TContext, TArgs> =
  | SubscriptionSubscriberObject<TResult, TKey, TParent, TContext, TArgs>
  | SubscriptionResolverObject<TResult, TParent, TContext, TArgs>;

export type SubscriptionResolver<TResult, TKey extends string, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> =
  | ((...args: any[]) => SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>)
  | SubscriptionObject<TResult, TKey, TParent, TContext, TArgs>;

export type TypeResolveFn<TTypes, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (
  parent: TParent,
  context: TContext,
  info: GraphQLResolveInfo
) => Maybe<TTypes> | Promise<Maybe<TTypes>>;

export type IsTypeOfResolverFn<T = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>> = (obj: T, context: TContext, info: GraphQLResolveInfo) => boolean | Promise<boolean>;

export type NextResolverFn<T> = () => Promise<T>;

export type DirectiveResolverFn<TResult = Record<PropertyKey, never>, TParent = Record<PropertyKey, never>, TContext = Record<PropertyKey, never>, TArgs = Record<PropertyKey, never>> = (
  next: NextResolverFn<TResult>,
  parent: TParent,
  args: TArgs,
  context: TContext,
  info: GraphQLResolveInfo
) => TResult | Promise<TResult>;

/** Mapping of federation types */
export type FederationTypes = {
  Order: Order;
  User: User;
};

/** Mapping of federation reference types */
export type FederationReferenceTypes = {
  Order:
    ( { __typename: 'Order' }
    & GraphQLRecursivePick<FederationTypes['Order'], {"id":true}> );
  User:
    ( { __typename: 'User' }
    & GraphQLRecursivePick<FederationTypes['User'], {"id":true}> );
};



/** Mapping between all available schema types and the resolvers types */
export type ResolversTypes = {
  Decimal: ResolverTypeWrapper<Scalars['Decimal']['output']>;
  DateTime: ResolverTypeWrapper<Scalars['DateTime']['output']>;
  OrderStatus: OrderStatus;
  Order: ResolverTypeWrapper<OrderView>;
  ID: ResolverTypeWrapper<Scalars['ID']['output']>;
  String: ResolverTypeWrapper<Scalars['String']['output']>;
  OrderItem: ResolverTypeWrapper<OrderItem>;
  Int: ResolverTypeWrapper<Scalars['Int']['output']>;
  OrderConnection: ResolverTypeWrapper<Omit<OrderConnection, 'edges'> & { edges: Array<ResolversTypes['OrderEdge']> }>;
  OrderEdge: ResolverTypeWrapper<Omit<OrderEdge, 'node'> & { node: ResolversTypes['Order'] }>;
  PageInfo: ResolverTypeWrapper<PageInfo>;
  Boolean: ResolverTypeWrapper<Scalars['Boolean']['output']>;
  User: ResolverTypeWrapper<{ id: string }>;
  Product: ResolverTypeWrapper<Product>;
  Query: ResolverTypeWrapper<Record<PropertyKey, never>>;
  OrderItemInput: OrderItemInput;
  PlaceOrderInput: PlaceOrderInput;
  Mutation: ResolverTypeWrapper<Record<PropertyKey, never>>;
  Subscription: ResolverTypeWrapper<Record<PropertyKey, never>>;
};

/** Mapping between all available schema types and the resolvers parents */
export type ResolversParentTypes = {
  Decimal: Scalars['Decimal']['output'];
  DateTime: Scalars['DateTime']['output'];
  Order: OrderView;
  ID: Scalars['ID']['output'];
  String: Scalars['String']['output'];
  OrderItem: OrderItem;
  Int: Scalars['Int']['output'];
  OrderConnection: Omit<OrderConnection, 'edges'> & { edges: Array<ResolversParentTypes['OrderEdge']> };
  OrderEdge: Omit<OrderEdge, 'node'> & { node: ResolversParentTypes['Order'] };
  PageInfo: PageInfo;
  Boolean: Scalars['Boolean']['output'];
  User: { id: string };
  Product: Product;
  Query: Record<PropertyKey, never>;
  OrderItemInput: OrderItemInput;
  PlaceOrderInput: PlaceOrderInput;
  Mutation: Record<PropertyKey, never>;
  Subscription: Record<PropertyKey, never>;
};

export interface DecimalScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['Decimal'], any> {
  name: 'Decimal';
}

export interface DateTimeScalarConfig extends GraphQLScalarTypeConfig<ResolversTypes['DateTime'], any> {
  name: 'DateTime';
}

export type OrderResolvers<ContextType = any, ParentType extends ResolversParentTypes['Order'] = ResolversParentTypes['Order'], FederationReferenceType extends FederationReferenceTypes['Order'] = FederationReferenceTypes['Order']> = {
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['Order']> | FederationReferenceType, FederationReferenceType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  user?: Resolver<Maybe<ResolversTypes['User']>, ParentType, ContextType>;
  items?: Resolver<Array<ResolversTypes['OrderItem']>, ParentType, ContextType>;
  status?: Resolver<ResolversTypes['OrderStatus'], ParentType, ContextType>;
  total?: Resolver<ResolversTypes['Decimal'], ParentType, ContextType>;
  currency?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  createdAt?: Resolver<ResolversTypes['DateTime'], ParentType, ContextType>;
  failureCode?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
};

export type OrderItemResolvers<ContextType = any, ParentType extends ResolversParentTypes['OrderItem'] = ResolversParentTypes['OrderItem']> = {
  product?: Resolver<Maybe<ResolversTypes['Product']>, ParentType, ContextType>;
  quantity?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
  unitPrice?: Resolver<ResolversTypes['Decimal'], ParentType, ContextType>;
};

export type OrderConnectionResolvers<ContextType = any, ParentType extends ResolversParentTypes['OrderConnection'] = ResolversParentTypes['OrderConnection']> = {
  edges?: Resolver<Array<ResolversTypes['OrderEdge']>, ParentType, ContextType>;
  pageInfo?: Resolver<ResolversTypes['PageInfo'], ParentType, ContextType>;
  totalCount?: Resolver<ResolversTypes['Int'], ParentType, ContextType>;
};

export type OrderEdgeResolvers<ContextType = any, ParentType extends ResolversParentTypes['OrderEdge'] = ResolversParentTypes['OrderEdge']> = {
  cursor?: Resolver<ResolversTypes['String'], ParentType, ContextType>;
  node?: Resolver<ResolversTypes['Order'], ParentType, ContextType>;
};

export type PageInfoResolvers<ContextType = any, ParentType extends ResolversParentTypes['PageInfo'] = ResolversParentTypes['PageInfo']> = {
  hasNextPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  hasPreviousPage?: Resolver<ResolversTypes['Boolean'], ParentType, ContextType>;
  startCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
  endCursor?: Resolver<Maybe<ResolversTypes['String']>, ParentType, ContextType>;
};

export type UserResolvers<ContextType = any, ParentType extends ResolversParentTypes['User'] = ResolversParentTypes['User'], FederationReferenceType extends FederationReferenceTypes['User'] = FederationReferenceTypes['User']> = {
  __resolveReference?: ReferenceResolver<Maybe<ResolversTypes['User']> | FederationReferenceType, FederationReferenceType, ContextType>;
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
  orders?: Resolver<ResolversTypes['OrderConnection'], ParentType, ContextType, RequireFields<UserOrdersArgs, 'first'>>;
};

export type ProductResolvers<ContextType = any, ParentType extends ResolversParentTypes['Product'] = ResolversParentTypes['Product']> = {
  id?: Resolver<ResolversTypes['ID'], ParentType, ContextType>;
};

export type QueryResolvers<ContextType = any, ParentType extends ResolversParentTypes['Query'] = ResolversParentTypes['Query']> = {
  order?: Resolver<Maybe<ResolversTypes['Order']>, ParentType, ContextType, RequireFields<QueryOrderArgs, 'id'>>;
};

export type MutationResolvers<ContextType = any, ParentType extends ResolversParentTypes['Mutation'] = ResolversParentTypes['Mutation']> = {
  placeOrder?: Resolver<ResolversTypes['Order'], ParentType, ContextType, RequireFields<MutationPlaceOrderArgs, 'input'>>;
  cancelOrder?: Resolver<ResolversTypes['Order'], ParentType, ContextType, RequireFields<MutationCancelOrderArgs, 'id'>>;
};

export type SubscriptionResolvers<ContextType = any, ParentType extends ResolversParentTypes['Subscription'] = ResolversParentTypes['Subscription']> = {
  orderUpdated?: SubscriptionResolver<ResolversTypes['Order'], "orderUpdated", ParentType, ContextType, Partial<SubscriptionOrderUpdatedArgs>>;
};

export type Resolvers<ContextType = any> = {
  Decimal?: GraphQLScalarType;
  DateTime?: GraphQLScalarType;
  Order?: OrderResolvers<ContextType>;
  OrderItem?: OrderItemResolvers<ContextType>;
  OrderConnection?: OrderConnectionResolvers<ContextType>;
  OrderEdge?: OrderEdgeResolvers<ContextType>;
  PageInfo?: PageInfoResolvers<ContextType>;
  User?: UserResolvers<ContextType>;
  Product?: ProductResolvers<ContextType>;
  Query?: QueryResolvers<ContextType>;
  Mutation?: MutationResolvers<ContextType>;
  Subscription?: SubscriptionResolvers<ContextType>;
};
