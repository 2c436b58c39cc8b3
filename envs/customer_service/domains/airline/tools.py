"""The 14 airline tools, with tau-bench's semantics (``tau_bench/envs/airline/tools``).

Two upstream quirks are fixed because they only affect read-only answers: the one-stop search
reports the second leg's status on the second leg's own date (upstream used the first leg's date,
and crashed when that date was absent), and a missing reservation is reported as "reservation not
found" (upstream said "user not found").
"""

from __future__ import annotations

import copy
import json
from typing import Literal, TypedDict

from proxmo_bench.envs.customer_service.common_tools import CommonTools
from proxmo_bench.envs.customer_service.database import Table
from proxmo_bench.envs.customer_service.domains.airline.records import (
    Flight,
    FlightDay,
    FlightLeg,
    Passenger,
    PaymentRecord,
    Reservation,
    User,
)
from proxmo_bench.envs.customer_service.toolkit import ToolError, tool

Cabin = Literal["basic_economy", "economy", "business"]

#: The airports the airline serves (IATA code -> city), as upstream lists them.
AIRPORTS: dict[str, str] = {
    "SFO": "San Francisco",
    "JFK": "New York",
    "LAX": "Los Angeles",
    "ORD": "Chicago",
    "DFW": "Dallas",
    "DEN": "Denver",
    "SEA": "Seattle",
    "ATL": "Atlanta",
    "MIA": "Miami",
    "BOS": "Boston",
    "PHX": "Phoenix",
    "IAH": "Houston",
    "LAS": "Las Vegas",
    "MCO": "Orlando",
    "EWR": "Newark",
    "CLT": "Charlotte",
    "MSP": "Minneapolis",
    "DTW": "Detroit",
    "PHL": "Philadelphia",
    "LGA": "LaGuardia",
}

#: Fixed ids for what tasks create, so the gold replay and the agent's run produce equal records.
NEW_RESERVATION_IDS = ("HATHAT", "HATHAU", "HATHAV")
NEW_CERTIFICATE_IDS = ("certificate_3221322", "certificate_3221323", "certificate_3221324")


class _FlightKey(TypedDict):
    flight_number: str
    date: str


class FlightRef(_FlightKey, total=False):
    # Extra keys a reservation's flights carry; accepted so that a reservation's own flight list
    # can be sent back unchanged (they are recomputed, not trusted).
    price: int | float
    origin: str
    destination: str


def _leg(ref: FlightRef, price: float, origin: str, destination: str) -> FlightLeg:
    """A reservation's flight entry: the requested flight with its price and airports."""
    return {
        "flight_number": ref["flight_number"],
        "date": ref["date"],
        "price": price,
        "origin": origin,
        "destination": destination,
    }


class AirlineTools(CommonTools):
    """Tools over the tables ``users``, ``reservations`` and ``flights``."""

    @property
    def users(self) -> Table[User]:
        return self.db["users"]

    @property
    def reservations(self) -> Table[Reservation]:
        return self.db["reservations"]

    @property
    def flights(self) -> Table[Flight]:
        return self.db["flights"]

    def _reservation(self, reservation_id: str) -> Reservation:
        res = self.reservations.get(reservation_id)
        if res is None:
            raise ToolError("reservation not found")
        return res

    def _bookable(
        self, flight_number: str, date: str, cabin: str, seats: int
    ) -> tuple[Flight, FlightDay]:
        flight = self.flights.get(flight_number)
        if flight is None:
            raise ToolError(f"flight {flight_number} not found")
        if date not in flight["dates"]:
            raise ToolError(f"flight {flight_number} not found on date {date}")
        day = flight["dates"][date]
        if day["status"] != "available":
            raise ToolError(f"flight {flight_number} not available on date {date}")
        if day["available_seats"][cabin] < seats:
            raise ToolError(f"not enough seats on flight {flight_number}")
        return flight, day

    # ---- read-only tools -----------------------------------------------------------------------
    @tool()
    def get_reservation_details(self, reservation_id: str) -> str:
        """Return a reservation: flights, passengers, cabin, baggage, insurance and payments.

        Args:
            reservation_id: the six-character reservation id, e.g. 'ZFA04Y'.
        """
        return json.dumps(self._reservation(reservation_id))

    @tool()
    def get_user_details(self, user_id: str) -> str:
        """Return a customer's profile: name, date of birth, membership, payment methods, saved
        passengers and reservation ids.

        Args:
            user_id: the user id, e.g. 'sara_doe_496'.
        """
        user = self.users.get(user_id)
        if user is None:
            raise ToolError("user not found")
        return json.dumps(user)

    @tool()
    def list_all_airports(self) -> str:
        """List every airport served, as a JSON map from IATA code to city."""
        return json.dumps(AIRPORTS)

    @tool()
    def search_direct_flight(self, origin: str, destination: str, date: str) -> str:
        """Find direct flights between two airports that can be booked on a date.

        Args:
            origin: IATA code of the departure airport, e.g. 'JFK'.
            destination: IATA code of the arrival airport, e.g. 'LAX'.
            date: departure date as 'YYYY-MM-DD', e.g. '2024-05-01'.
        """
        results = []
        for flight in self.flights.values():
            if flight["origin"] != origin or flight["destination"] != destination:
                continue
            day = flight["dates"].get(date)
            if day and day["status"] == "available":
                results.append({**{k: v for k, v in flight.items() if k != "dates"}, **day})
        return json.dumps(results)

    @tool()
    def search_onestop_flight(self, origin: str, destination: str, date: str) -> str:
        """Find bookable one-stop connections (two flights) between two airports on a date.

        Args:
            origin: IATA code of the departure airport, e.g. 'JFK'.
            destination: IATA code of the arrival airport, e.g. 'LAX'.
            date: departure date of the first flight as 'YYYY-MM-DD', e.g. '2024-05-01'.
        """
        flights = list(self.flights.values())
        results = []
        for first in flights:
            if first["origin"] != origin:
                continue
            for second in flights:
                if second["destination"] != destination or first["destination"] != second["origin"]:
                    continue
                overnight = "+1" in first["scheduled_arrival_time_est"]
                date2 = (
                    f"2024-05-{int(date[-2:]) + 1}" if overnight and date[-2:].isdigit() else date
                )
                if first["scheduled_arrival_time_est"] > second["scheduled_departure_time_est"]:
                    continue
                day1, day2 = first["dates"].get(date), second["dates"].get(date2)
                if not (day1 and day2):
                    continue
                if day1["status"] == "available" and day2["status"] == "available":
                    leg1 = {
                        **{k: v for k, v in first.items() if k != "dates"},
                        **day1,
                        "date": date,
                    }
                    leg2 = {
                        **{k: v for k, v in second.items() if k != "dates"},
                        **day2,
                        "date": date2,
                    }
                    results.append([leg1, leg2])
        return json.dumps(results)

    # ---- writing tools -------------------------------------------------------------------------
    @tool(writes=True)
    def book_reservation(
        self,
        user_id: str,
        origin: str,
        destination: str,
        flight_type: Literal["one_way", "round_trip"],
        cabin: Cabin,
        flights: list[FlightRef],
        passengers: list[Passenger],
        payment_methods: list[PaymentRecord],
        total_baggages: int,
        nonfree_baggages: int,
        insurance: Literal["yes", "no"],
    ) -> str:
        """Book a new reservation and charge it to the customer's payment methods.

        The payments must add up exactly to the total: seat prices times passengers, plus 30 per
        passenger with insurance, plus 50 per non-free bag. Gift cards and certificates must
        cover their amounts; a certificate is used up by the booking. Confirm all details with
        the customer before calling. Returns the new reservation.

        Args:
            user_id: the user id, e.g. 'sara_doe_496'.
            origin: IATA code of the trip's origin, e.g. 'SFO'.
            destination: IATA code of the trip's destination, e.g. 'JFK'.
            flight_type: 'one_way' or 'round_trip'.
            cabin: 'basic_economy', 'economy' or 'business' (the same for all flights).
            flights: every flight of the trip, in order, as {'flight_number', 'date'}.
            passengers: every passenger as {'first_name', 'last_name', 'dob' ('YYYY-MM-DD')}.
            payment_methods: the payments as {'payment_id', 'amount'}.
            total_baggages: number of checked bags.
            nonfree_baggages: number of checked bags that are paid for.
            insurance: whether travel insurance is bought: 'yes' or 'no'.
        """
        users, reservations = self.users, self.reservations
        user = users.get(user_id)
        if user is None:
            raise ToolError("user not found")
        reservation_id = next(
            (r for r in NEW_RESERVATION_IDS if r not in reservations), NEW_RESERVATION_IDS[-1]
        )
        booked: list[FlightLeg] = []
        total_price: float = 0
        for ref in flights:
            data, day = self._bookable(ref["flight_number"], ref["date"], cabin, len(passengers))
            booked.append(_leg(ref, day["prices"][cabin], data["origin"], data["destination"]))
            total_price += booked[-1]["price"] * len(passengers)
        if insurance == "yes":
            total_price += 30 * len(passengers)
        total_price += 50 * nonfree_baggages
        for payment in payment_methods:
            method = user["payment_methods"].get(payment["payment_id"])
            if method is None:
                raise ToolError(f"payment method {payment['payment_id']} not found")
            if (
                method["source"] in ("gift_card", "certificate")
                and method["amount"] < payment["amount"]
            ):
                raise ToolError(f"not enough balance in payment method {payment['payment_id']}")
        paid = sum(p["amount"] for p in payment_methods)
        if paid != total_price:
            raise ToolError(
                f"payment amount does not add up, total price is {total_price}, but paid {paid}"
            )
        user = users.edit(user_id)
        for payment in payment_methods:
            method = user["payment_methods"][payment["payment_id"]]
            if method["source"] == "gift_card":
                method["amount"] -= payment["amount"]
            elif method["source"] == "certificate":
                del user["payment_methods"][payment["payment_id"]]
        reservation: Reservation = {
            "reservation_id": reservation_id,
            "user_id": user_id,
            "origin": origin,
            "destination": destination,
            "flight_type": flight_type,
            "cabin": cabin,
            "flights": booked,
            "passengers": copy.deepcopy(passengers),
            "payment_history": copy.deepcopy(payment_methods),
            "created_at": "2024-05-15T15:00:00",
            "total_baggages": total_baggages,
            "nonfree_baggages": nonfree_baggages,
            "insurance": insurance,
        }
        reservations.insert(reservation_id, reservation)
        user["reservations"].append(reservation_id)
        return json.dumps(reservation)

    @tool(writes=True)
    def cancel_reservation(self, reservation_id: str) -> str:
        """Cancel a whole reservation and refund every payment to its original method.

        Check the cancellation rules of the policy and confirm with the customer before calling.
        Returns the updated reservation.

        Args:
            reservation_id: the six-character reservation id, e.g. 'ZFA04Y'.
        """
        self._reservation(reservation_id)
        res = self.reservations.edit(reservation_id)
        refunds: list[PaymentRecord] = [
            {"payment_id": p["payment_id"], "amount": -p["amount"]} for p in res["payment_history"]
        ]
        res["payment_history"].extend(refunds)
        res["status"] = "cancelled"
        return json.dumps(res)

    @tool(writes=True)
    def send_certificate(self, user_id: str, amount: int) -> str:
        """Give the customer a travel certificate as compensation.

        Only when the policy allows compensation and the customer asks for it.

        Args:
            user_id: the user id, e.g. 'sara_doe_496'.
            amount: the certificate's value in dollars.
        """
        if user_id not in self.users:
            raise ToolError("user not found")
        user = self.users.edit(user_id)
        for payment_id in NEW_CERTIFICATE_IDS:
            if payment_id not in user["payment_methods"]:
                user["payment_methods"][payment_id] = {
                    "source": "certificate",
                    "amount": amount,
                    "id": payment_id,
                }
                return f"Certificate {payment_id} added to user {user_id} with amount {amount}."
        raise ToolError("the user already holds the maximum number of new certificates")

    @tool(writes=True)
    def update_reservation_baggages(
        self, reservation_id: str, total_baggages: int, nonfree_baggages: int, payment_id: str
    ) -> str:
        """Change the checked bags of a reservation; added paid bags cost 50 each.

        Bags cannot be removed. The payment method cannot be a certificate; a gift card must
        cover the cost. Confirm with the customer before calling. Returns the updated reservation.

        Args:
            reservation_id: the six-character reservation id, e.g. 'ZFA04Y'.
            total_baggages: the new total number of checked bags.
            nonfree_baggages: the new number of paid checked bags.
            payment_id: the payment method for added bags, e.g. 'credit_card_7815826'.
        """
        res = self._reservation(reservation_id)
        total_price = 50 * max(0, nonfree_baggages - res["nonfree_baggages"])
        user = self.users.get(res["user_id"])
        method = user["payment_methods"].get(payment_id) if user else None
        if method is None:
            raise ToolError("payment method not found")
        if method["source"] == "certificate":
            raise ToolError("certificate cannot be used to update reservation")
        if method["source"] == "gift_card" and method["amount"] < total_price:
            raise ToolError("gift card balance is not enough")
        res = self.reservations.edit(reservation_id)
        res["total_baggages"] = total_baggages
        res["nonfree_baggages"] = nonfree_baggages
        if method["source"] == "gift_card":
            self.users.edit(res["user_id"])["payment_methods"][payment_id]["amount"] -= total_price
        if total_price != 0:
            res["payment_history"].append({"payment_id": payment_id, "amount": total_price})
        return json.dumps(res)

    @tool(writes=True)
    def update_reservation_flights(
        self, reservation_id: str, cabin: Cabin, flights: list[FlightRef], payment_id: str
    ) -> str:
        """Change the flights and/or cabin of a reservation, paying or refunding the difference.

        Give the full new list of flights, including the ones that stay. Flights kept in the
        same cabin keep their price. The payment method cannot be a certificate; a gift card must
        cover the cost. Confirm with the customer before calling. Returns the updated reservation.

        Args:
            reservation_id: the six-character reservation id, e.g. 'ZFA04Y'.
            cabin: the cabin for all flights: 'basic_economy', 'economy' or 'business'.
            flights: every flight of the new itinerary as {'flight_number', 'date'}.
            payment_id: the payment method for the difference, e.g. 'gift_card_1234567'.
        """
        res = self._reservation(reservation_id)
        n_passengers = len(res["passengers"])
        new_flights: list[FlightLeg] = []
        total_price: float = 0
        for ref in flights:
            kept = [
                f
                for f in res["flights"]
                if f["flight_number"] == ref["flight_number"]
                and f["date"] == ref["date"]
                and cabin == res["cabin"]
            ]
            if kept:  # a flight kept in the same cabin keeps the price paid
                new_flights.append(
                    _leg(ref, kept[0]["price"], kept[0]["origin"], kept[0]["destination"])
                )
            else:
                data, day = self._bookable(ref["flight_number"], ref["date"], cabin, n_passengers)
                new_flights.append(
                    _leg(ref, day["prices"][cabin], data["origin"], data["destination"])
                )
            total_price += new_flights[-1]["price"] * n_passengers
        total_price -= sum(f["price"] for f in res["flights"]) * n_passengers
        user = self.users.get(res["user_id"])
        method = user["payment_methods"].get(payment_id) if user else None
        if method is None:
            raise ToolError("payment method not found")
        if method["source"] == "certificate":
            raise ToolError("certificate cannot be used to update reservation")
        if method["source"] == "gift_card" and method["amount"] < total_price:
            raise ToolError("gift card balance is not enough")
        if method["source"] == "gift_card":
            self.users.edit(res["user_id"])["payment_methods"][payment_id]["amount"] -= total_price
        res = self.reservations.edit(reservation_id)
        res["flights"] = new_flights
        if total_price != 0:
            res["payment_history"].append({"payment_id": payment_id, "amount": total_price})
        return json.dumps(res)

    @tool(writes=True)
    def update_reservation_passengers(
        self, reservation_id: str, passengers: list[Passenger]
    ) -> str:
        """Replace the passengers' details of a reservation (the number of passengers stays).

        Confirm with the customer before calling. Returns the updated reservation.

        Args:
            reservation_id: the six-character reservation id, e.g. 'ZFA04Y'.
            passengers: every passenger as {'first_name', 'last_name', 'dob' ('YYYY-MM-DD')}, in
                the reservation's order.
        """
        res = self._reservation(reservation_id)
        if len(passengers) != len(res["passengers"]):
            raise ToolError("number of passengers does not match")
        res = self.reservations.edit(reservation_id)
        res["passengers"] = copy.deepcopy(passengers)
        return json.dumps(res)
