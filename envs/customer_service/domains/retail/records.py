"""The record types of the retail tables (the shape of tau-bench's retail JSON files).

Keys declared in a ``total=False`` class are optional: they appear once a tool sets them (e.g. an
order's ``cancel_reason``) or only for some records (a gift card's ``balance``).
"""

from __future__ import annotations

from typing import Any, TypedDict


class Name(TypedDict):
    first_name: str
    last_name: str


class Address(TypedDict):
    address1: str
    address2: str
    city: str
    country: str
    state: str
    zip: str


class _PaymentMethodKeys(TypedDict):
    source: str  # "credit_card", "paypal" or "gift_card"
    id: str


class PaymentMethod(_PaymentMethodKeys, total=False):
    brand: str
    last_four: str
    balance: float  # gift cards only


class User(TypedDict):
    name: Name
    address: Address
    email: str
    payment_methods: dict[str, PaymentMethod]
    orders: list[str]


class OrderItem(TypedDict):
    name: str
    product_id: str
    item_id: str
    price: float
    options: dict[str, str]


class Fulfillment(TypedDict):
    tracking_id: list[str]
    item_ids: list[str]


class Transaction(TypedDict):
    transaction_type: str  # "payment" or "refund"
    amount: float
    payment_method_id: str


class _OrderKeys(TypedDict):
    order_id: str
    user_id: str
    address: Address
    items: list[OrderItem]
    fulfillments: list[Fulfillment]
    status: str
    payment_history: list[Transaction]


class Order(_OrderKeys, total=False):
    cancel_reason: str
    exchange_items: list[str]
    exchange_new_items: list[str]
    exchange_payment_method_id: str
    exchange_price_difference: float
    return_items: list[str]
    return_payment_method_id: str


class Variant(TypedDict):
    item_id: str
    options: dict[str, str]
    available: bool
    price: float


class Product(TypedDict):
    name: str
    product_id: str
    variants: dict[str, Variant]


#: Table name -> record type.
TABLES: dict[str, Any] = {"users": User, "orders": Order, "products": Product}
