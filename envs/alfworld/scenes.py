"""The catalogue the game generator draws from: rooms, their receptacles and objects, and which
receptacle types can hold which object types.

Type names are ALFRED's (``CounterTop``, ``SinkBasin``, ``DeskLamp``, ...) because the PDDL domain and
the text grammar shipped with ALFWorld refer to them (``SinkBasinType``, ``MicrowaveType``,
``FridgeType``, ``DeskLampType``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReceptacleSpec:
    """A receptacle type that can appear ``lo``..``hi`` times in a room."""

    rtype: str
    lo: int
    hi: int


@dataclass(frozen=True)
class Room:
    """A room kind: its receptacles, the object types that live there, and whether a desk lamp does."""

    name: str
    receptacles: tuple[ReceptacleSpec, ...]
    objects: tuple[str, ...]
    has_lamp: bool = False


#: Receptacles that open and close (their content is hidden until opened).
OPENABLE: frozenset[str] = frozenset(
    {"Cabinet", "Drawer", "Fridge", "Microwave", "Safe", "Box", "LaundryHamper"}
)

#: Objects that can hold other objects (ALFRED's receptacle objects).
RECEPTACLE_OBJECTS: frozenset[str] = frozenset({"Bowl", "Cup", "Mug", "Pan", "Plate", "Pot"})

CLEANABLE: frozenset[str] = frozenset(
    {
        "Apple", "Bowl", "ButterKnife", "Cloth", "Cup", "DishSponge", "Egg", "Fork", "Knife",
        "Ladle", "Lettuce", "Mug", "Pan", "Plate", "Pot", "Potato", "SoapBar", "Spatula", "Spoon",
        "Tomato",
    }
)  # fmt: skip
HEATABLE: frozenset[str] = frozenset(
    {"Apple", "Bread", "Cup", "Egg", "Mug", "Plate", "Potato", "Tomato"}
)
COOLABLE: frozenset[str] = frozenset(
    {
        "Apple", "Bowl", "Bread", "Cup", "Egg", "Lettuce", "Mug", "Pan", "Plate", "Pot", "Potato",
        "Tomato", "WineBottle",
    }
)  # fmt: skip

_TABLES = ("CounterTop", "DiningTable")
_KITCHEN_STORE = ("Cabinet", "Drawer", "Shelf")
_BED_SURFACES = ("Desk", "SideTable", "Dresser", "Shelf")
_LIVING_SURFACES = ("CoffeeTable", "SideTable", "TVStand", "Dresser", "Shelf", "DiningTable")

#: Object type -> receptacle types that can hold it (the problem's ``canContain`` facts).
OBJECT_PLACES: dict[str, tuple[str, ...]] = {
    # kitchen
    "Apple": (*_TABLES, "Fridge", "Microwave", "GarbageCan", "Shelf"),
    "Bread": (*_TABLES, "Fridge", "Microwave", "Cabinet", "GarbageCan"),
    "Bowl": (*_TABLES, *_KITCHEN_STORE, "Fridge", "Microwave", "SinkBasin"),
    "ButterKnife": (*_TABLES, "Drawer", "SinkBasin"),
    "Cup": (*_TABLES, *_KITCHEN_STORE, "Fridge", "Microwave", "SinkBasin"),
    "DishSponge": (*_TABLES, "Cabinet", "Drawer", "SinkBasin", "Shelf", "GarbageCan"),
    "Egg": (*_TABLES, "Fridge", "Microwave", "SinkBasin", "GarbageCan"),
    "Fork": (*_TABLES, "Drawer", "SinkBasin"),
    "Kettle": (*_TABLES, "Cabinet", "StoveBurner", "Shelf"),
    "Knife": (*_TABLES, "Drawer", "SinkBasin"),
    "Ladle": (*_TABLES, "Drawer", "SinkBasin"),
    "Lettuce": (*_TABLES, "Fridge", "SinkBasin", "GarbageCan"),
    "Mug": (*_TABLES, *_KITCHEN_STORE, "Fridge", "Microwave", "SinkBasin", "CoffeeMachine"),
    "Pan": (*_TABLES, "Cabinet", "Fridge", "SinkBasin", "StoveBurner"),
    "PepperShaker": (*_TABLES, *_KITCHEN_STORE),
    "Plate": (*_TABLES, *_KITCHEN_STORE, "Fridge", "Microwave", "SinkBasin"),
    "Pot": (*_TABLES, "Cabinet", "Fridge", "SinkBasin", "StoveBurner", "Shelf"),
    "Potato": (*_TABLES, "Fridge", "Microwave", "SinkBasin", "GarbageCan"),
    "SaltShaker": (*_TABLES, *_KITCHEN_STORE),
    "Spatula": (*_TABLES, "Drawer", "SinkBasin"),
    "Spoon": (*_TABLES, "Drawer", "SinkBasin"),
    "Tomato": (*_TABLES, "Fridge", "Microwave", "SinkBasin", "GarbageCan"),
    "WineBottle": (*_TABLES, "Cabinet", "Fridge", "Shelf", "GarbageCan"),
    # bathroom
    "Candle": ("CounterTop", "Cabinet", "Shelf", "Toilet", "BathtubBasin"),
    "Cloth": ("CounterTop", "Cabinet", "Drawer", "SinkBasin", "BathtubBasin", "GarbageCan"),
    "HandTowel": ("HandTowelHolder", "CounterTop", "Cabinet"),
    "Plunger": ("Cabinet", "GarbageCan"),
    "ScrubBrush": ("Cabinet", "GarbageCan", "CounterTop"),
    "SoapBar": ("CounterTop", "Cabinet", "SinkBasin", "BathtubBasin", "Toilet", "GarbageCan"),
    "SoapBottle": ("CounterTop", "Cabinet", "Shelf", "Toilet", "GarbageCan", "DiningTable"),
    "SprayBottle": ("CounterTop", "Cabinet", "Shelf", "Toilet", "GarbageCan"),
    "TissueBox": ("CounterTop", "Cabinet", "Shelf", "Toilet", "SideTable", "Dresser", "Desk",
                  "CoffeeTable", "GarbageCan"),
    "ToiletPaper": ("ToiletPaperHanger", "CounterTop", "Cabinet", "Toilet", "Shelf", "GarbageCan"),
    "Towel": ("TowelHolder", "CounterTop", "Cabinet", "BathtubBasin"),
    # bedroom and living room
    "AlarmClock": (*_BED_SURFACES, "CoffeeTable"),
    "BaseballBat": ("Bed", "Desk", "Shelf"),
    "BasketBall": ("Bed", "Desk", "Sofa", "ArmChair"),
    "Book": (*_BED_SURFACES, "Bed", "Drawer", "CoffeeTable", "Sofa", "ArmChair"),
    "Box": ("CoffeeTable", "SideTable", "Dresser", "Shelf", "Sofa", "ArmChair", "Cabinet",
            "Drawer", "TVStand"),
    "CD": (*_BED_SURFACES, "Drawer", "Safe", "GarbageCan"),
    "CellPhone": (*_BED_SURFACES, "Bed", "Drawer", "Safe", "Sofa", "ArmChair", "CoffeeTable"),
    "CreditCard": (*_BED_SURFACES, "Drawer", "Safe", "Sofa", "ArmChair", "CoffeeTable"),
    "KeyChain": (*_BED_SURFACES, "Drawer", "Safe", "Sofa", "ArmChair", "CoffeeTable"),
    "Laptop": ("Bed", "Desk", "Dresser", "Sofa", "ArmChair", "CoffeeTable", "DiningTable"),
    "Newspaper": ("CoffeeTable", "SideTable", "Sofa", "ArmChair", "Dresser", "GarbageCan"),
    "Pen": (*_BED_SURFACES, "Drawer", "GarbageCan"),
    "Pencil": (*_BED_SURFACES, "Drawer", "GarbageCan"),
    "Pillow": ("Bed", "Sofa", "ArmChair"),
    "RemoteControl": ("CoffeeTable", "SideTable", "TVStand", "Sofa", "ArmChair", "Dresser",
                      "Drawer"),
    "Statue": ("CoffeeTable", "SideTable", "Shelf", "Dresser", "TVStand", "DiningTable"),
    "TeddyBear": ("Bed", "Dresser", "Shelf"),
    "TennisRacket": ("Bed", "Desk"),
    "Vase": ("CoffeeTable", "SideTable", "Shelf", "Dresser", "TVStand", "DiningTable", "Safe"),
    "Watch": (*_LIVING_SURFACES, "Drawer", "Safe"),
    "WateringCan": ("Shelf", "SideTable", "TVStand"),
}  # fmt: skip

#: Receptacle types a desk lamp stands on.
LAMP_PLACES: tuple[str, ...] = ("Desk", "SideTable", "Dresser")

ROOMS: dict[str, Room] = {
    "kitchen": Room(
        "kitchen",
        (
            ReceptacleSpec("Cabinet", 2, 9),
            ReceptacleSpec("CounterTop", 1, 3),
            ReceptacleSpec("Drawer", 1, 6),
            ReceptacleSpec("Shelf", 0, 3),
            ReceptacleSpec("DiningTable", 0, 2),
            ReceptacleSpec("StoveBurner", 2, 4),
            ReceptacleSpec("Fridge", 1, 1),
            ReceptacleSpec("Microwave", 1, 1),
            ReceptacleSpec("SinkBasin", 1, 2),
            ReceptacleSpec("CoffeeMachine", 1, 1),
            ReceptacleSpec("Toaster", 0, 1),
            ReceptacleSpec("GarbageCan", 1, 1),
        ),
        (
            "Apple", "Bread", "Bowl", "ButterKnife", "Cup", "DishSponge", "Egg", "Fork", "Kettle",
            "Knife", "Ladle", "Lettuce", "Mug", "Pan", "PepperShaker", "Plate", "Pot", "Potato",
            "SaltShaker", "Spatula", "Spoon", "Tomato", "WineBottle", "SoapBottle",
        ),
    ),
    "bathroom": Room(
        "bathroom",
        (
            ReceptacleSpec("Cabinet", 1, 4),
            ReceptacleSpec("CounterTop", 1, 1),
            ReceptacleSpec("Drawer", 0, 4),
            ReceptacleSpec("Shelf", 0, 2),
            ReceptacleSpec("SinkBasin", 1, 2),
            ReceptacleSpec("BathtubBasin", 0, 1),
            ReceptacleSpec("Toilet", 1, 1),
            ReceptacleSpec("ToiletPaperHanger", 1, 1),
            ReceptacleSpec("TowelHolder", 0, 2),
            ReceptacleSpec("HandTowelHolder", 0, 2),
            ReceptacleSpec("GarbageCan", 1, 1),
        ),
        (
            "Candle", "Cloth", "HandTowel", "Plunger", "ScrubBrush", "SoapBar", "SoapBottle",
            "SprayBottle", "TissueBox", "ToiletPaper", "Towel",
        ),
    ),
    "bedroom": Room(
        "bedroom",
        (
            ReceptacleSpec("Bed", 1, 1),
            ReceptacleSpec("Desk", 1, 2),
            ReceptacleSpec("Drawer", 1, 6),
            ReceptacleSpec("Dresser", 0, 1),
            ReceptacleSpec("Shelf", 0, 6),
            ReceptacleSpec("SideTable", 0, 2),
            ReceptacleSpec("Safe", 0, 1),
            ReceptacleSpec("LaundryHamper", 0, 1),
            ReceptacleSpec("GarbageCan", 1, 1),
        ),
        (
            "AlarmClock", "BaseballBat", "BasketBall", "Book", "CD", "CellPhone", "CreditCard",
            "KeyChain", "Laptop", "Pen", "Pencil", "Pillow", "TeddyBear", "TennisRacket",
            "TissueBox",
        ),
        has_lamp=True,
    ),
    "livingroom": Room(
        "livingroom",
        (
            ReceptacleSpec("Sofa", 1, 1),
            ReceptacleSpec("ArmChair", 0, 2),
            ReceptacleSpec("CoffeeTable", 1, 2),
            ReceptacleSpec("SideTable", 1, 3),
            ReceptacleSpec("TVStand", 0, 1),
            ReceptacleSpec("Dresser", 0, 1),
            ReceptacleSpec("Drawer", 0, 4),
            ReceptacleSpec("Shelf", 0, 4),
            ReceptacleSpec("Cabinet", 0, 4),
            ReceptacleSpec("DiningTable", 0, 1),
            ReceptacleSpec("Safe", 0, 1),
            ReceptacleSpec("GarbageCan", 1, 1),
        ),
        (
            "Book", "Box", "CellPhone", "CreditCard", "KeyChain", "Laptop", "Newspaper", "Pillow",
            "RemoteControl", "Statue", "TissueBox", "Vase", "Watch", "WateringCan",
        ),
        has_lamp=True,
    ),
}  # fmt: skip

#: Types the PDDL domain (and our goals) name as constants (``KnifeType``, ``SinkBasinType``, ...);
#: every problem declares them, ``Type`` suffix added, whether or not the room has such a thing.
DOMAIN_CONSTANTS: dict[str, tuple[str, ...]] = {
    "otype": ("Knife", "ButterKnife", "DeskLamp"),
    "rtype": ("SinkBasin", "Sink", "Microwave", "Fridge"),
}


def all_object_types() -> tuple[str, ...]:
    """Every object type of the catalogue (sorted), the desk lamp included."""
    return tuple(sorted({*OBJECT_PLACES, "DeskLamp"}))


def all_receptacle_types() -> tuple[str, ...]:
    """Every receptacle type of the catalogue (sorted)."""
    return tuple(sorted({s.rtype for room in ROOMS.values() for s in room.receptacles}))
