"""Hand-made books for the money reports' tests: orders, invoices, payments, returns and
credit notes written with SQL the way issuing, paying and returning write them, so the tests
depend on nothing but the schema; and the data sets the report tests work their figures out
from by hand (each described where it is built)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from stockline.tax.rules import line_tax
from tests.ordering_world import TODAY, receive

T = TODAY
MONTH_FROM = T.replace(day=1)


class Books:
    """Writes what issuing, paying and returning write: a shipped order with its items and
    their sale movements, its invoice and lines (numbered from the document counters), a
    payment (and the invoice's amount_paid), an approved return restocked into its batch and
    its credit note (and the invoice's amount_credited). Every unit comes from one batch of
    SKU 2."""

    def __init__(self, conn, batch_no: str = "FIN-1") -> None:
        self.conn = conn
        self.batch_id = receive(conn, 2, batch_no, 400, 10_000, "1.00")
        self.references = 0

    def _row(self, sql: str, params) -> dict:
        return self.conn.execute(sql, params).fetchone()

    def invoice(self, customer_id: int, issued_on: date, due_on: date,
                *lines: tuple[str, int, str]) -> int:
        """An invoice of one line per (unit price, quantity, tax rate %), tax per line half-up."""
        items = [(Decimal(unit), quantity, Decimal(rate)) for unit, quantity, rate in lines]
        priced = [(unit, quantity, rate, unit * quantity, line_tax(unit * quantity, rate))
                  for unit, quantity, rate in items]
        net, tax = sum(p[3] for p in priced), sum(p[4] for p in priced)
        order_id = self._row(
            "INSERT INTO Orders (customer_id, order_date, status, total_amount, tax_amount) "
            "VALUES (%s, %s, 'shipped', %s, %s) RETURNING order_id",
            (customer_id, datetime.combine(issued_on, time(9), UTC), net, tax))["order_id"]
        year = issued_on.year
        invoice_id = self._row(
            "INSERT INTO Invoices (invoice_no, series_year, series_number, order_id, customer_id, issued_on, due_on, "
            "seller, buyer, net_amount, tax_amount, gross_amount) "
            "SELECT 'INV-' || %(year)s || '-' || lpad(n::text, 6, '0'), %(year)s, n, %(order)s, %(customer)s, "
            "%(issued)s, %(due)s, '{}', %(buyer)s, %(net)s, %(tax)s, %(gross)s "
            "FROM stockline_next_document_number('INV', %(year)s) AS n RETURNING invoice_id",
            {"year": year, "order": order_id, "customer": customer_id, "issued": issued_on, "due": due_on,
             "buyer": json.dumps({"customer_id": customer_id}), "net": net, "tax": tax,
             "gross": net + tax})["invoice_id"]
        for line_no, (unit, quantity, rate, line_net, line_tax_amount) in enumerate(priced, 1):
            item_id = self._row(
                "INSERT INTO Order_Items (order_id, sku_id, batch_id, quantity_ordered, base_price, sale_price, "
                "unit_cost, tax_rate, tax_amount) VALUES (%s, 2, %s, %s, %s, %s, 1.00, %s, %s) "
                "RETURNING order_item_id",
                (order_id, self.batch_id, quantity, unit, unit, rate, line_tax_amount))["order_item_id"]
            self.conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason, order_id) "
                              "VALUES (%s, %s, 'sale', %s)", (self.batch_id, -quantity, order_id))
            self.conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = quantity_on_hand - %s "
                              "WHERE batch_id = %s", (quantity, self.batch_id))
            self.conn.execute(
                "INSERT INTO Invoice_Lines (invoice_id, line_no, order_item_id, sku_code, description, batch_no, "
                "expiry_date, quantity, unit_price, net_amount, tax_rate, tax_amount) "
                "SELECT %s, %s, %s, 'AMOX-2', 'Amoxicillin 500 mg capsules 100 capsule', batch_no, expiry_date, "
                "%s, %s, %s, %s, %s FROM Inventory_Batches WHERE batch_id = %s",
                (invoice_id, line_no, item_id, quantity, unit, line_net, rate, line_tax_amount, self.batch_id))
        return invoice_id

    def pay(self, invoice_id: int, amount: str, paid_on: date) -> None:
        self.references += 1
        self.conn.execute("INSERT INTO Payments (invoice_id, customer_id, amount, paid_on, reference) "
                          "SELECT invoice_id, customer_id, %s, %s, %s FROM Invoices WHERE invoice_id = %s",
                          (amount, paid_on, f"BANK-{self.references}", invoice_id))
        self.conn.execute("UPDATE Invoices SET amount_paid = amount_paid + %s WHERE invoice_id = %s",
                          (amount, invoice_id))

    def credit(self, invoice_id: int, issued_on: date, line_no: int, quantity: int) -> int:
        """A credit note for `quantity` units of an invoice line, returned and restocked."""
        line = self._row("SELECT l.*, i.order_id, i.customer_id FROM Invoice_Lines AS l JOIN Invoices AS i "
                         "USING (invoice_id) WHERE invoice_id = %s AND line_no = %s", (invoice_id, line_no))
        net = line["unit_price"] * quantity
        tax = line_tax(net, line["tax_rate"])
        decided = datetime.combine(issued_on, time(10), UTC)
        return_id = self._row(
            "INSERT INTO Returns (order_id, customer_id, status, requested_at, decided_at) "
            "VALUES (%s, %s, 'approved', %s, %s) RETURNING return_id",
            (line["order_id"], line["customer_id"], decided, decided))["return_id"]
        self.conn.execute("INSERT INTO Return_Lines (return_id, order_item_id, quantity, reason, disposition) "
                          "VALUES (%s, %s, %s, 'damaged in transit', 'restock')",
                          (return_id, line["order_item_id"], quantity))
        self.conn.execute("INSERT INTO Stock_Movements (batch_id, quantity_delta, reason, order_id) "
                          "VALUES (%s, %s, 'return', %s)", (self.batch_id, quantity, line["order_id"]))
        self.conn.execute("UPDATE Inventory_Batches SET quantity_on_hand = quantity_on_hand + %s "
                          "WHERE batch_id = %s", (quantity, self.batch_id))
        year = issued_on.year
        note_id = self._row(
            "INSERT INTO Credit_Notes (credit_note_no, series_year, series_number, invoice_id, return_id, "
            "customer_id, issued_on, seller, buyer, net_amount, tax_amount, gross_amount) "
            "SELECT 'CN-' || %(year)s || '-' || lpad(n::text, 6, '0'), %(year)s, n, %(invoice)s, %(return)s, "
            "%(customer)s, %(issued)s, '{}', '{}', %(net)s, %(tax)s, %(gross)s "
            "FROM stockline_next_document_number('CN', %(year)s) AS n RETURNING credit_note_id",
            {"year": year, "invoice": invoice_id, "return": return_id, "customer": line["customer_id"],
             "issued": issued_on, "net": net, "tax": tax, "gross": net + tax})["credit_note_id"]
        self.conn.execute(
            "INSERT INTO Credit_Note_Lines (credit_note_id, line_no, order_item_id, sku_code, description, batch_no, "
            "expiry_date, quantity, unit_price, net_amount, tax_rate, tax_amount) "
            "VALUES (%s, 1, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (note_id, line["order_item_id"], line["sku_code"], line["description"], line["batch_no"],
             line["expiry_date"], quantity, line["unit_price"], net, line["tax_rate"], tax))
        self.conn.execute("UPDATE Invoices SET amount_credited = amount_credited + %s WHERE invoice_id = %s",
                          (net + tax, invoice_id))
        return note_id


def days(n: int) -> date:
    return T + timedelta(days=n)


def aging_books(conn, world: dict) -> dict:
    """Receivables relative to today (T). Customer 1 (limit 5,000.00, 30 days) owes one invoice
    per bucket boundary, customer 2 (no limit, 60 days) a paid-and-credited one, a paid one,
    an over-paid one and a credited one, customer 3 ('=Third Clinic') only an over-payment:

      cust 1  A due T     120.00 (100.00 @ 20 %)              0 days: current
              B due T-1    50.00                              1: 1-30
              C due T-30   12.00 (10.00 @ 20 %)              30: 1-30
              D due T-31    7.00  E due T-60  6.00       31, 60: 31-60
              F due T-61    5.00  G due T-90  4.00       61, 90: 61-90
              H due T-91    3.00                             91: over 90
              I due T+10  240.00 (200.00 @ 20 %), 40.00 paid T-5: 200.00 current
      cust 2  J due T-40  600.00 (5 x 100.00 @ 20 %), credit note 1 unit (120.00) T-35,
                          180.00 paid T-20: 300.00, 40 days: 31-60
              K due T-10   80.00, paid in full T-12: settled
              L due T+10   30.00 (25.00 @ 20 %), 45.00 paid T-3: 15.00 unallocated credit
              N due T+20   24.00 (20.00 @ 20 %), credited in full T-5: settled
      cust 3  M due T+20   12.00 (10.00 @ 20 %), 20.00 paid T-1: 8.00 unallocated credit
    """
    conn.execute("UPDATE Customers SET credit_limit = 5000.00, payment_terms_days = 30 WHERE customer_id = 1")
    conn.execute("UPDATE Customers SET credit_limit = NULL, payment_terms_days = 60 WHERE customer_id = 2")
    conn.execute("INSERT INTO Customers (customer_id, name, credit_limit, payment_terms_days) "
                 "VALUES (3, '=Third Clinic', 1000.00, 30)")
    books = Books(conn)
    ids = {
        "A": books.invoice(1, days(-30), days(0), ("100.00", 1, "20")),
        "B": books.invoice(1, days(-31), days(-1), ("50.00", 1, "0")),
        "C": books.invoice(1, days(-60), days(-30), ("10.00", 1, "20")),
        "D": books.invoice(1, days(-61), days(-31), ("7.00", 1, "0")),
        "E": books.invoice(1, days(-90), days(-60), ("6.00", 1, "0")),
        "F": books.invoice(1, days(-91), days(-61), ("5.00", 1, "0")),
        "G": books.invoice(1, days(-120), days(-90), ("4.00", 1, "0")),
        "H": books.invoice(1, days(-121), days(-91), ("3.00", 1, "0")),
        "I": books.invoice(1, days(-20), days(10), ("200.00", 1, "20")),
        "J": books.invoice(2, days(-100), days(-40), ("100.00", 5, "20")),
        "K": books.invoice(2, days(-70), days(-10), ("80.00", 1, "0")),
        "L": books.invoice(2, days(-50), days(10), ("25.00", 1, "20")),
        "N": books.invoice(2, days(-40), days(20), ("20.00", 1, "20")),
        "M": books.invoice(3, days(-10), days(20), ("10.00", 1, "20")),
    }
    books.pay(ids["I"], "40.00", days(-5))
    books.credit(ids["J"], days(-35), 1, 1)
    books.pay(ids["J"], "180.00", days(-20))
    books.pay(ids["K"], "80.00", days(-12))
    books.pay(ids["L"], "45.00", days(-3))
    books.credit(ids["N"], days(-5), 1, 1)
    books.pay(ids["M"], "20.00", days(-1))
    return world | ids


def sales_books(conn, world: dict) -> dict:
    """Invoices and credit notes of the first half of 2025 (customer 1), for revenue and tax:

      R1 2025-01-15  100.00 @ 20 % (tax 20.00) + 2 x 20.00 @ 5 % (tax 2.00)   net 140.00 tax 22.00
      R2 2025-01-31  33.33 @ 20 % (6.666: tax 6.67)                             net 33.33 tax 6.67
      R3 2025-02-01  10.00 @ 0 % + 0.05 @ 20 % (tax 0.01)                      net 10.05 tax 0.01
      R4 2025-03-31  4 x 50.00 @ 20 % (tax 40.00)                               net 200.00 tax 40.00
      C1 2025-02-10  credits R1's 5 % line in full: 40.00, tax 2.00 (a month after its invoice)
      C2 2025-04-02  credits 1 unit of R4: 50.00, tax 10.00 (the next quarter)
    """
    books = Books(conn, "FIN-S")
    ids = {
        "R1": books.invoice(1, date(2025, 1, 15), date(2025, 2, 14), ("100.00", 1, "20"), ("20.00", 2, "5")),
        "R2": books.invoice(1, date(2025, 1, 31), date(2025, 3, 2), ("33.33", 1, "20")),
        "R3": books.invoice(1, date(2025, 2, 1), date(2025, 3, 3), ("10.00", 1, "0"), ("0.05", 1, "20")),
        "R4": books.invoice(1, date(2025, 3, 31), date(2025, 4, 30), ("50.00", 4, "20")),
    }
    ids["C1"] = books.credit(ids["R1"], date(2025, 2, 10), 2, 2)
    ids["C2"] = books.credit(ids["R4"], date(2025, 4, 2), 1, 1)
    return world | ids


def month_books(conn, world: dict) -> dict:
    """This calendar month (from its 1st, MONTH_FROM, to today) and the day before it:

      X issued today         10 x 10.00 @ 20 % (gross 120.00), due in 30 days; a credit note
                             today for 1 unit (10.00, tax 2.00): 108.00 left
      Y issued MONTH_FROM-1  50.00 @ 0 %, due that day (overdue); credit notes of 2.00 that day
                             and 5.00 today: 43.00 left
      Z issued MONTH_FROM    10.00 @ 20 % (12.00), paid in full: settled
    """
    books = Books(conn)
    last_month = MONTH_FROM - timedelta(days=1)
    ids = {"X": books.invoice(1, T, days(30), ("10.00", 10, "20")),
           "Y": books.invoice(2, last_month, last_month, ("1.00", 50, "0")),
           "Z": books.invoice(2, MONTH_FROM, MONTH_FROM + timedelta(days=30), ("10.00", 1, "20"))}
    books.credit(ids["Y"], last_month, 1, 2)
    books.credit(ids["Y"], T, 1, 5)
    books.credit(ids["X"], T, 1, 1)
    books.pay(ids["Z"], "12.00", T)
    return world | ids
