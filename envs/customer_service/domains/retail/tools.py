"""The 16 retail tools, with tau-bench's semantics (``tau_bench/envs/retail/tools``).

Each refusal upstream returns ``"Error: ..."`` without touching the data; here it raises
:class:`ToolError`, which :meth:`ToolKit.invoke` turns into the same message.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from proxmo_bench.envs.customer_service.common_tools import CommonTools
from proxmo_bench.envs.customer_service.database import Table
from proxmo_bench.envs.customer_service.domains.retail.records import (
    Order,
    PaymentMethod,
    Product,
    Transaction,
    User,
)
from proxmo_bench.envs.customer_service.toolkit import ToolError, tool

CancelReason = Literal["no longer needed", "ordered by mistake"]


def _dump(record: Any) -> str:
    return json.dumps(record)


class RetailTools(CommonTools):
    """Tools over the tables ``users``, ``orders`` and ``products``."""

    @property
    def users(self) -> Table[User]:
        return self.db["users"]

    @property
    def orders(self) -> Table[Order]:
        return self.db["orders"]

    @property
    def products(self) -> Table[Product]:
        return self.db["products"]

    # ---- helpers -------------------------------------------------------------------------------
    def _order(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise ToolError("order not found")
        return order

    def _payment_method(self, user_id: str, payment_method_id: str) -> PaymentMethod:
        user = self.users.get(user_id)
        methods = user["payment_methods"] if user else {}
        if payment_method_id not in methods:
            raise ToolError("payment method not found")
        return methods[payment_method_id]

    @staticmethod
    def _check_items_in_order(order: Order, item_ids: list[str], message: str) -> None:
        present = [item["item_id"] for item in order["items"]]
        for item_id in item_ids:
            if item_ids.count(item_id) > present.count(item_id):
                raise ToolError(message.format(item_id=item_id))

    def _price_difference(
        self, order: Order, item_ids: list[str], new_item_ids: list[str]
    ) -> float:
        if len(item_ids) != len(new_item_ids):
            raise ToolError("the number of items to be exchanged should match")
        diff: float = 0
        for item_id, new_item_id in zip(item_ids, new_item_ids, strict=True):
            item = next(i for i in order["items"] if i["item_id"] == item_id)
            product = self.products.get(item["product_id"])
            variant = product["variants"].get(new_item_id) if product else None
            if not (variant and variant["available"]):
                raise ToolError(f"new item {new_item_id} not found or available")
            diff += variant["price"] - item["price"]
        return diff

    # ---- read-only tools -----------------------------------------------------------------------
    @tool()
    def find_user_id_by_email(self, email: str) -> str:
        """Look up a customer's user id from their email address (case-insensitive).

        Args:
            email: the customer's email address, e.g. 'ana.lopez1234@example.com'.
        """
        for user_id, user in self.users.items():
            if user["email"].lower() == email.lower():
                return user_id
        raise ToolError("user not found")

    @tool()
    def find_user_id_by_name_zip(self, first_name: str, last_name: str, zip: str) -> str:
        """Look up a customer's user id from their first name, last name and zip code.

        Use this when the customer cannot give an email address.

        Args:
            first_name: the customer's first name (case-insensitive).
            last_name: the customer's last name (case-insensitive).
            zip: the zip code of the customer's address, e.g. '90210'.
        """
        for user_id, user in self.users.items():
            name = user["name"]
            if (
                name["first_name"].lower() == first_name.lower()
                and name["last_name"].lower() == last_name.lower()
                and user["address"]["zip"] == zip
            ):
                return user_id
        raise ToolError("user not found")

    @tool()
    def get_order_details(self, order_id: str) -> str:
        """Return an order's status, items, fulfilments and payment history as JSON.

        Args:
            order_id: the order id including the leading '#', e.g. '#W1234567'.
        """
        return _dump(self._order(order_id))

    @tool()
    def get_product_details(self, product_id: str) -> str:
        """Return a product type and all its variants (item ids, options, price, availability).

        Args:
            product_id: the product id (not an item id), e.g. '6086499569'.
        """
        product = self.products.get(product_id)
        if product is None:
            raise ToolError("product not found")
        return _dump(product)

    @tool()
    def get_user_details(self, user_id: str) -> str:
        """Return a customer's profile: name, address, email, payment methods and order ids.

        Args:
            user_id: the user id, e.g. 'ana_lopez_1234'.
        """
        user = self.users.get(user_id)
        if user is None:
            raise ToolError("user not found")
        return _dump(user)

    @tool()
    def list_all_product_types(self) -> str:
        """List every product type sold by the shop as a JSON map from name to product id."""
        names = {p["name"]: p["product_id"] for p in self.products.values()}
        return _dump(dict(sorted(names.items())))

    # ---- writing tools -------------------------------------------------------------------------
    @tool(writes=True)
    def cancel_pending_order(self, order_id: str, reason: CancelReason) -> str:
        """Cancel a pending order and refund every payment made for it.

        Only pending orders can be cancelled. Confirm the details with the customer (an explicit
        yes) before calling. Gift-card payments are refunded to the gift card at once; other
        payments are refunded in 5-7 business days. Returns the updated order.

        Args:
            order_id: the order id including the leading '#', e.g. '#W1234567'.
            reason: why the order is cancelled: 'no longer needed' or 'ordered by mistake'.
        """
        order = self._order(order_id)
        if order["status"] != "pending":
            raise ToolError("non-pending order cannot be cancelled")
        order = self.orders.edit(order_id)
        refunds: list[Transaction] = []
        for payment in order["payment_history"]:
            pm_id = payment["payment_method_id"]
            refunds.append(
                {
                    "transaction_type": "refund",
                    "amount": payment["amount"],
                    "payment_method_id": pm_id,
                }
            )
            if "gift_card" in pm_id:
                user = self.users.edit(order["user_id"])
                card = user["payment_methods"][pm_id]
                card["balance"] = round(card["balance"] + payment["amount"], 2)
        order["status"] = "cancelled"
        order["cancel_reason"] = reason
        order["payment_history"].extend(refunds)
        return _dump(order)

    @tool(writes=True)
    def exchange_delivered_order_items(
        self, order_id: str, item_ids: list[str], new_item_ids: list[str], payment_method_id: str
    ) -> str:
        """Request an exchange of delivered items for other variants of the same products.

        Only delivered orders qualify, and each order can be exchanged once, so collect every
        item to exchange first. Confirm with the customer before calling. The price difference is
        charged to or refunded on the given payment method (a gift card must cover it). Returns
        the updated order, whose status becomes 'exchange requested'.

        Args:
            order_id: the order id including the leading '#', e.g. '#W1234567'.
            item_ids: item ids to exchange; repeat an id to exchange several of the same item.
            new_item_ids: the replacement item ids, position by position, each a variant of the
                same product as the item it replaces.
            payment_method_id: the payment method for the price difference, e.g.
                'gift_card_1234567'.
        """
        order = self._order(order_id)
        if order["status"] != "delivered":
            raise ToolError("non-delivered order cannot be exchanged")
        self._check_items_in_order(order, item_ids, "{item_id} not found")
        diff = round(self._price_difference(order, item_ids, new_item_ids), 2)
        method = self._payment_method(order["user_id"], payment_method_id)
        if method["source"] == "gift_card" and method["balance"] < diff:
            raise ToolError("insufficient gift card balance to pay for the price difference")
        order = self.orders.edit(order_id)
        order["status"] = "exchange requested"
        order["exchange_items"] = sorted(item_ids)
        order["exchange_new_items"] = sorted(new_item_ids)
        order["exchange_payment_method_id"] = payment_method_id
        order["exchange_price_difference"] = diff
        return _dump(order)

    @tool(writes=True)
    def modify_pending_order_address(
        self,
        order_id: str,
        address1: str,
        address2: str,
        city: str,
        state: str,
        country: str,
        zip: str,
    ) -> str:
        """Change the shipping address of a pending order.

        Confirm the new address with the customer before calling. Returns the updated order.

        Args:
            order_id: the order id including the leading '#', e.g. '#W1234567'.
            address1: first address line, e.g. '123 Main St'.
            address2: second address line, e.g. 'Apt 1' (empty string if none).
            city: city, e.g. 'San Francisco'.
            state: state, e.g. 'CA'.
            country: country, e.g. 'USA'.
            zip: zip code, e.g. '12345'.
        """
        order = self._order(order_id)
        if order["status"] != "pending":
            raise ToolError("non-pending order cannot be modified")
        order = self.orders.edit(order_id)
        order["address"] = {
            "address1": address1,
            "address2": address2,
            "city": city,
            "state": state,
            "country": country,
            "zip": zip,
        }
        return _dump(order)

    @tool(writes=True)
    def modify_pending_order_items(
        self, order_id: str, item_ids: list[str], new_item_ids: list[str], payment_method_id: str
    ) -> str:
        """Swap items of a pending order for other variants of the same products.

        A pending order can have its items modified once, so collect every change first and
        confirm with the customer before calling. The price difference is charged to or refunded
        on the given payment method (a gift card must cover it). Returns the updated order, whose
        status becomes 'pending (item modified)'.

        Args:
            order_id: the order id including the leading '#', e.g. '#W1234567'.
            item_ids: item ids to replace; repeat an id to replace several of the same item.
            new_item_ids: the replacement item ids, position by position, each a variant of the
                same product as the item it replaces.
            payment_method_id: the payment method for the price difference, e.g. 'paypal_1234567'.
        """
        order = self._order(order_id)
        if order["status"] != "pending":
            raise ToolError("non-pending order cannot be modified")
        self._check_items_in_order(order, item_ids, "{item_id} not found")
        diff = self._price_difference(order, item_ids, new_item_ids)
        method = self._payment_method(order["user_id"], payment_method_id)
        if method["source"] == "gift_card" and method["balance"] < diff:
            raise ToolError("insufficient gift card balance to pay for the new item")
        order = self.orders.edit(order_id)
        order["payment_history"].append(
            {
                "transaction_type": "payment" if diff > 0 else "refund",
                "amount": abs(diff),
                "payment_method_id": payment_method_id,
            }
        )
        if method["source"] == "gift_card":
            user = self.users.edit(order["user_id"])
            card = user["payment_methods"][payment_method_id]
            card["balance"] = round(card["balance"] - diff, 2)
        products = self.products
        for item_id, new_item_id in zip(item_ids, new_item_ids, strict=True):
            # An item already swapped keeps its new id, so repeated ids pick the next original.
            item = next(i for i in order["items"] if i["item_id"] == item_id)
            variant = products[item["product_id"]]["variants"][new_item_id]
            item["item_id"] = new_item_id
            item["price"] = variant["price"]
            item["options"] = dict(variant["options"])
        order["status"] = "pending (item modified)"
        return _dump(order)

    @tool(writes=True)
    def modify_pending_order_payment(self, order_id: str, payment_method_id: str) -> str:
        """Pay a pending order with a different payment method.

        The order must have exactly one payment so far, and the new method must differ from it
        (a gift card must cover the amount). The old payment is refunded (gift cards at once,
        other methods in 5-7 business days). Confirm with the customer before calling. Returns
        the updated order.

        Args:
            order_id: the order id including the leading '#', e.g. '#W1234567'.
            payment_method_id: the new payment method, e.g. 'credit_card_1234567'.
        """
        order = self._order(order_id)
        if order["status"] != "pending":
            raise ToolError("non-pending order cannot be modified")
        method = self._payment_method(order["user_id"], payment_method_id)
        history = order["payment_history"]
        if len(history) > 1 or history[0]["transaction_type"] != "payment":
            raise ToolError("there should be exactly one payment for a pending order")
        old_id = history[0]["payment_method_id"]
        if old_id == payment_method_id:
            raise ToolError("the new payment method should be different from the current one")
        amount = history[0]["amount"]
        if method["source"] == "gift_card" and method["balance"] < amount:
            raise ToolError("insufficient gift card balance to pay for the order")
        order = self.orders.edit(order_id)
        order["payment_history"].extend(
            [
                {
                    "transaction_type": "payment",
                    "amount": amount,
                    "payment_method_id": payment_method_id,
                },
                {"transaction_type": "refund", "amount": amount, "payment_method_id": old_id},
            ]
        )
        if method["source"] == "gift_card" or "gift_card" in old_id:
            user = self.users.edit(order["user_id"])
            if method["source"] == "gift_card":
                new = user["payment_methods"][payment_method_id]
                new["balance"] = round(new["balance"] - amount, 2)
            if "gift_card" in old_id:
                old = user["payment_methods"][old_id]
                old["balance"] = round(old["balance"] + amount, 2)
        return _dump(order)

    @tool(writes=True)
    def modify_user_address(
        self,
        user_id: str,
        address1: str,
        address2: str,
        city: str,
        state: str,
        country: str,
        zip: str,
    ) -> str:
        """Change a customer's default address (orders keep their own shipping address).

        Confirm the new address with the customer before calling. Returns the updated profile.

        Args:
            user_id: the user id, e.g. 'ana_lopez_1234'.
            address1: first address line, e.g. '123 Main St'.
            address2: second address line, e.g. 'Apt 1' (empty string if none).
            city: city, e.g. 'San Francisco'.
            state: state, e.g. 'CA'.
            country: country, e.g. 'USA'.
            zip: zip code, e.g. '12345'.
        """
        if user_id not in self.users:
            raise ToolError("user not found")
        user = self.users.edit(user_id)
        user["address"] = {
            "address1": address1,
            "address2": address2,
            "city": city,
            "state": state,
            "country": country,
            "zip": zip,
        }
        return _dump(user)

    @tool(writes=True)
    def return_delivered_order_items(
        self, order_id: str, item_ids: list[str], payment_method_id: str
    ) -> str:
        """Request the return of delivered items; the refund goes to the given payment method.

        Only delivered orders qualify. The refund method must be the order's original payment
        method or a gift card. Confirm the items and refund method with the customer before
        calling. Returns the updated order, whose status becomes 'return requested'.

        Args:
            order_id: the order id including the leading '#', e.g. '#W1234567'.
            item_ids: item ids to return; repeat an id to return several of the same item.
            payment_method_id: where the refund goes: the original method or a gift card.
        """
        order = self._order(order_id)
        if order["status"] != "delivered":
            raise ToolError("non-delivered order cannot be returned")
        self._payment_method(order["user_id"], payment_method_id)
        if (
            "gift_card" not in payment_method_id
            and payment_method_id != order["payment_history"][0]["payment_method_id"]
        ):
            raise ToolError(
                "payment method should be either the original payment method or a gift card"
            )
        self._check_items_in_order(order, item_ids, "some item not found")
        order = self.orders.edit(order_id)
        order["status"] = "return requested"
        order["return_items"] = sorted(item_ids)
        order["return_payment_method_id"] = payment_method_id
        return _dump(order)
