"""Realistic pharmaceutical vocabulary for generated data: generic drugs with their usual
strengths and dosage forms, manufacturers, pack sizes that fit each form, customer names.

Prices are per dispensing unit (tablet, ml, gram, dose) and drive base prices; they are
plausible wholesale magnitudes, not a price list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Form:
    label: str          # as printed after the product name: "film-coated tablets"
    unit_type: str      # what one SKU unit is sold as
    packs: tuple[tuple[str, float], ...]  # (package_size, dispensing units in it)
    batch_prefix: str   # manufacturers' batch numbers often encode the form


TABLET = Form("tablets", "tablet", (("10", 10), ("14", 14), ("28", 28), ("30", 30), ("3x10", 30),
                                    ("56", 56), ("100", 100), ("500", 500)), "T")
FILM_TABLET = Form("film-coated tablets", "tablet",
                   (("14", 14), ("28", 28), ("30", 30), ("2x14", 28), ("84", 84), ("100", 100)), "F")
CAPSULE = Form("capsules", "capsule", (("8", 8), ("16", 16), ("21", 21), ("28", 28), ("30", 30),
                                       ("3x10", 30), ("100", 100)), "C")
SUSPENSION = Form("oral suspension", "bottle", (("60 ml", 60), ("100 ml", 100), ("150 ml", 150)), "S")
SYRUP = Form("syrup", "bottle", (("100 ml", 100), ("150 ml", 150), ("200 ml", 200)), "Y")
INJECTION = Form("solution for injection", "ampoule",
                 (("5x1 ml", 5), ("10x1 ml", 10), ("10x2 ml", 20), ("50x2 ml", 100)), "J")
VIAL = Form("powder for injection", "vial", (("1 vial", 1), ("10 vials", 10), ("25 vials", 25)), "V")
INFUSION = Form("solution for infusion", "bag", (("100 ml", 100), ("250 ml", 250), ("500 ml", 500),
                                                 ("1000 ml", 1000)), "I")
CREAM = Form("cream", "tube", (("15 g", 15), ("30 g", 30), ("50 g", 50), ("100 g", 100)), "K")
OINTMENT = Form("ointment", "tube", (("15 g", 15), ("30 g", 30)), "O")
EYE_DROPS = Form("eye drops", "bottle", (("5 ml", 5), ("10 ml", 10)), "E")
INHALER = Form("inhaler", "inhaler", (("120 doses", 120), ("200 doses", 200)), "H")
SUPPOSITORY = Form("suppositories", "suppository", (("10", 10), ("12", 12)), "P")
SACHET = Form("oral powder sachets", "sachet", (("10", 10), ("20", 20), ("30", 30)), "A")
PATCH = Form("transdermal patches", "patch", (("4", 4), ("5", 5), ("10", 10)), "D")


@dataclass(frozen=True)
class Drug:
    name: str
    category: str
    strengths: tuple[str, ...]
    forms: tuple[Form, ...]
    unit_price: float  # per dispensing unit at the lowest strength


DRUGS: tuple[Drug, ...] = (
    Drug("Amoxicillin", "Antibacterials", ("250 mg", "500 mg"), (CAPSULE, SUSPENSION), 0.09),
    Drug("Amoxicillin/Clavulanic acid", "Antibacterials", ("500/125 mg", "875/125 mg"),
         (FILM_TABLET, SUSPENSION), 0.35),
    Drug("Azithromycin", "Antibacterials", ("250 mg", "500 mg"), (FILM_TABLET, SUSPENSION), 0.60),
    Drug("Ciprofloxacin", "Antibacterials", ("250 mg", "500 mg", "750 mg"), (FILM_TABLET, INFUSION), 0.22),
    Drug("Clarithromycin", "Antibacterials", ("250 mg", "500 mg"), (FILM_TABLET,), 0.45),
    Drug("Doxycycline", "Antibacterials", ("100 mg",), (CAPSULE,), 0.18),
    Drug("Cefuroxime", "Antibacterials", ("250 mg", "500 mg", "750 mg"), (FILM_TABLET, VIAL), 0.55),
    Drug("Ceftriaxone", "Antibacterials", ("500 mg", "1 g", "2 g"), (VIAL,), 2.10),
    Drug("Metronidazole", "Antibacterials", ("200 mg", "400 mg", "500 mg"), (TABLET, INFUSION), 0.08),
    Drug("Nitrofurantoin", "Antibacterials", ("50 mg", "100 mg"), (CAPSULE,), 0.30),
    Drug("Gentamicin", "Antibacterials", ("40 mg/ml", "80 mg/2 ml"), (INJECTION,), 1.20),
    Drug("Vancomycin", "Antibacterials", ("500 mg", "1 g"), (VIAL,), 6.50),
    Drug("Fluconazole", "Antifungals", ("50 mg", "150 mg", "200 mg"), (CAPSULE,), 0.40),
    Drug("Clotrimazole", "Antifungals", ("1 %",), (CREAM,), 0.08),
    Drug("Aciclovir", "Antivirals", ("200 mg", "400 mg", "800 mg", "5 %"), (TABLET, CREAM), 0.20),
    Drug("Oseltamivir", "Antivirals", ("30 mg", "45 mg", "75 mg"), (CAPSULE,), 1.60),
    Drug("Paracetamol", "Analgesics", ("500 mg", "1 g", "120 mg/5 ml", "10 mg/ml"),
         (TABLET, SUSPENSION, INFUSION, SUPPOSITORY), 0.02),
    Drug("Ibuprofen", "Analgesics", ("200 mg", "400 mg", "600 mg", "100 mg/5 ml"),
         (FILM_TABLET, SUSPENSION), 0.04),
    Drug("Naproxen", "Analgesics", ("250 mg", "500 mg"), (TABLET,), 0.10),
    Drug("Diclofenac", "Analgesics", ("25 mg", "50 mg", "75 mg/3 ml", "1 %"),
         (TABLET, INJECTION, CREAM), 0.06),
    Drug("Tramadol", "Analgesics", ("50 mg", "100 mg"), (CAPSULE, INJECTION), 0.15),
    Drug("Morphine sulfate", "Analgesics", ("10 mg/ml", "10 mg", "30 mg"), (INJECTION, TABLET), 0.90),
    Drug("Codeine phosphate", "Analgesics", ("15 mg", "30 mg"), (TABLET,), 0.12),
    Drug("Fentanyl", "Analgesics", ("12 mcg/h", "25 mcg/h", "50 mcg/h"), (PATCH,), 4.80),
    Drug("Amlodipine", "Cardiovascular", ("5 mg", "10 mg"), (TABLET,), 0.05),
    Drug("Atorvastatin", "Cardiovascular", ("10 mg", "20 mg", "40 mg", "80 mg"), (FILM_TABLET,), 0.07),
    Drug("Simvastatin", "Cardiovascular", ("10 mg", "20 mg", "40 mg"), (FILM_TABLET,), 0.05),
    Drug("Rosuvastatin", "Cardiovascular", ("5 mg", "10 mg", "20 mg"), (FILM_TABLET,), 0.12),
    Drug("Bisoprolol", "Cardiovascular", ("1.25 mg", "2.5 mg", "5 mg", "10 mg"), (FILM_TABLET,), 0.06),
    Drug("Metoprolol", "Cardiovascular", ("25 mg", "50 mg", "100 mg"), (TABLET,), 0.07),
    Drug("Ramipril", "Cardiovascular", ("1.25 mg", "2.5 mg", "5 mg", "10 mg"), (CAPSULE,), 0.06),
    Drug("Lisinopril", "Cardiovascular", ("5 mg", "10 mg", "20 mg"), (TABLET,), 0.05),
    Drug("Losartan", "Cardiovascular", ("25 mg", "50 mg", "100 mg"), (FILM_TABLET,), 0.08),
    Drug("Valsartan", "Cardiovascular", ("80 mg", "160 mg"), (FILM_TABLET,), 0.14),
    Drug("Furosemide", "Cardiovascular", ("20 mg", "40 mg", "10 mg/ml"), (TABLET, INJECTION), 0.04),
    Drug("Spironolactone", "Cardiovascular", ("25 mg", "50 mg"), (FILM_TABLET,), 0.09),
    Drug("Clopidogrel", "Cardiovascular", ("75 mg",), (FILM_TABLET,), 0.10),
    Drug("Apixaban", "Cardiovascular", ("2.5 mg", "5 mg"), (FILM_TABLET,), 0.95),
    Drug("Warfarin", "Cardiovascular", ("1 mg", "3 mg", "5 mg"), (TABLET,), 0.05),
    Drug("Enoxaparin", "Cardiovascular", ("40 mg/0.4 ml", "60 mg/0.6 ml", "80 mg/0.8 ml"),
         (INJECTION,), 3.20),
    Drug("Heparin sodium", "Cardiovascular", ("5000 IU/ml",), (INJECTION,), 1.40),
    Drug("Digoxin", "Cardiovascular", ("62.5 mcg", "125 mcg", "250 mcg"), (TABLET,), 0.09),
    Drug("Metformin", "Diabetes", ("500 mg", "850 mg", "1000 mg"), (FILM_TABLET,), 0.03),
    Drug("Gliclazide", "Diabetes", ("30 mg", "80 mg"), (TABLET,), 0.06),
    Drug("Sitagliptin", "Diabetes", ("25 mg", "50 mg", "100 mg"), (FILM_TABLET,), 0.85),
    Drug("Empagliflozin", "Diabetes", ("10 mg", "25 mg"), (FILM_TABLET,), 1.25),
    Drug("Insulin glargine", "Diabetes", ("100 units/ml",), (INJECTION,), 7.50),
    Drug("Levothyroxine", "Endocrine", ("25 mcg", "50 mcg", "100 mcg"), (TABLET,), 0.04),
    Drug("Prednisolone", "Endocrine", ("1 mg", "5 mg", "25 mg"), (TABLET,), 0.05),
    Drug("Dexamethasone", "Endocrine", ("0.5 mg", "2 mg", "4 mg/ml"), (TABLET, INJECTION), 0.20),
    Drug("Hydrocortisone", "Endocrine", ("1 %", "100 mg"), (CREAM, VIAL), 0.15),
    Drug("Omeprazole", "Gastrointestinal", ("10 mg", "20 mg", "40 mg"), (CAPSULE, VIAL), 0.05),
    Drug("Pantoprazole", "Gastrointestinal", ("20 mg", "40 mg"), (TABLET, VIAL), 0.07),
    Drug("Lansoprazole", "Gastrointestinal", ("15 mg", "30 mg"), (CAPSULE,), 0.06),
    Drug("Ondansetron", "Gastrointestinal", ("4 mg", "8 mg", "2 mg/ml"), (FILM_TABLET, INJECTION), 0.30),
    Drug("Metoclopramide", "Gastrointestinal", ("10 mg", "5 mg/ml"), (TABLET, INJECTION), 0.05),
    Drug("Loperamide", "Gastrointestinal", ("2 mg",), (CAPSULE,), 0.06),
    Drug("Lactulose", "Gastrointestinal", ("3.3 g/5 ml",), (SYRUP,), 0.01),
    Drug("Macrogol", "Gastrointestinal", ("13.8 g",), (SACHET,), 0.25),
    Drug("Oral rehydration salts", "Gastrointestinal", ("4.2 g",), (SACHET,), 0.20),
    Drug("Salbutamol", "Respiratory", ("100 mcg/dose", "2 mg/5 ml", "5 mg/2.5 ml"),
         (INHALER, SYRUP, INJECTION), 0.02),
    Drug("Budesonide/Formoterol", "Respiratory", ("160/4.5 mcg/dose", "320/9 mcg/dose"),
         (INHALER,), 0.20),
    Drug("Beclometasone", "Respiratory", ("100 mcg/dose", "200 mcg/dose"), (INHALER,), 0.06),
    Drug("Montelukast", "Respiratory", ("4 mg", "5 mg", "10 mg"), (FILM_TABLET,), 0.12),
    Drug("Cetirizine", "Respiratory", ("10 mg", "5 mg/5 ml"), (FILM_TABLET, SYRUP), 0.03),
    Drug("Loratadine", "Respiratory", ("10 mg",), (TABLET,), 0.03),
    Drug("Sertraline", "Central nervous system", ("50 mg", "100 mg"), (FILM_TABLET,), 0.08),
    Drug("Fluoxetine", "Central nervous system", ("20 mg", "20 mg/5 ml"), (CAPSULE, SUSPENSION), 0.07),
    Drug("Citalopram", "Central nervous system", ("10 mg", "20 mg", "40 mg"), (FILM_TABLET,), 0.05),
    Drug("Mirtazapine", "Central nervous system", ("15 mg", "30 mg", "45 mg"), (FILM_TABLET,), 0.09),
    Drug("Amitriptyline", "Central nervous system", ("10 mg", "25 mg", "50 mg"), (FILM_TABLET,), 0.04),
    Drug("Diazepam", "Central nervous system", ("2 mg", "5 mg", "10 mg/2 ml"), (TABLET, INJECTION), 0.05),
    Drug("Lorazepam", "Central nervous system", ("1 mg", "2.5 mg", "4 mg/ml"), (TABLET, INJECTION), 0.12),
    Drug("Quetiapine", "Central nervous system", ("25 mg", "100 mg", "200 mg"), (FILM_TABLET,), 0.10),
    Drug("Olanzapine", "Central nervous system", ("5 mg", "10 mg"), (FILM_TABLET,), 0.14),
    Drug("Levetiracetam", "Central nervous system", ("250 mg", "500 mg", "1000 mg"), (FILM_TABLET,), 0.18),
    Drug("Sodium valproate", "Central nervous system", ("200 mg", "500 mg"), (TABLET,), 0.10),
    Drug("Carbamazepine", "Central nervous system", ("200 mg", "400 mg"), (TABLET,), 0.08),
    Drug("Gabapentin", "Central nervous system", ("100 mg", "300 mg", "400 mg"), (CAPSULE,), 0.07),
    Drug("Pregabalin", "Central nervous system", ("25 mg", "75 mg", "150 mg"), (CAPSULE,), 0.09),
    Drug("Levodopa/Carbidopa", "Central nervous system", ("100/25 mg", "250/25 mg"), (TABLET,), 0.22),
    Drug("Donepezil", "Central nervous system", ("5 mg", "10 mg"), (FILM_TABLET,), 0.09),
    Drug("Alendronic acid", "Musculoskeletal", ("70 mg",), (TABLET,), 0.35),
    Drug("Allopurinol", "Musculoskeletal", ("100 mg", "300 mg"), (TABLET,), 0.04),
    Drug("Colchicine", "Musculoskeletal", ("500 mcg",), (TABLET,), 0.15),
    Drug("Methotrexate", "Immunology & oncology", ("2.5 mg", "10 mg"), (TABLET,), 0.25),
    Drug("Tamoxifen", "Immunology & oncology", ("10 mg", "20 mg"), (TABLET,), 0.12),
    Drug("Letrozole", "Immunology & oncology", ("2.5 mg",), (FILM_TABLET,), 0.40),
    Drug("Ferrous sulfate", "Nutrition & blood", ("200 mg",), (TABLET,), 0.02),
    Drug("Folic acid", "Nutrition & blood", ("400 mcg", "5 mg"), (TABLET,), 0.02),
    Drug("Colecalciferol", "Nutrition & blood", ("400 IU", "1000 IU", "20000 IU"), (CAPSULE,), 0.05),
    Drug("Sodium chloride", "Fluids & electrolytes", ("0.9 %",), (INFUSION,), 0.002),
    Drug("Glucose", "Fluids & electrolytes", ("5 %", "10 %"), (INFUSION,), 0.003),
    Drug("Potassium chloride", "Fluids & electrolytes", ("600 mg", "15 %"), (TABLET, INJECTION), 0.10),
    Drug("Lidocaine", "Anaesthesia", ("1 %", "2 %"), (INJECTION, CREAM), 0.50),
    Drug("Ketamine", "Anaesthesia", ("10 mg/ml", "50 mg/ml"), (INJECTION,), 2.40),
    Drug("Propofol", "Anaesthesia", ("10 mg/ml",), (INJECTION,), 1.10),
    Drug("Tamsulosin", "Urology", ("400 mcg",), (CAPSULE,), 0.08),
    Drug("Finasteride", "Urology", ("5 mg",), (FILM_TABLET,), 0.08),
    Drug("Chloramphenicol", "Eye care", ("0.5 %",), (EYE_DROPS,), 0.35),
    Drug("Latanoprost", "Eye care", ("50 mcg/ml",), (EYE_DROPS,), 1.20),
    Drug("Timolol", "Eye care", ("0.25 %", "0.5 %"), (EYE_DROPS,), 0.45),
    Drug("Fusidic acid", "Dermatology", ("2 %",), (CREAM, OINTMENT), 0.20),
    Drug("Betamethasone", "Dermatology", ("0.1 %",), (CREAM, OINTMENT), 0.12),
    Drug("Mupirocin", "Dermatology", ("2 %",), (OINTMENT,), 0.30),
)

MANUFACTURERS: tuple[str, ...] = (
    "Teva", "Sandoz", "Viatris", "Sun Pharma", "Dr. Reddy's", "Cipla", "Aurobindo", "Lupin",
    "Zentiva", "Stada", "Krka", "Accord Healthcare", "Fresenius Kabi", "Hikma", "Glenmark",
    "Torrent", "Zydus", "Sanofi", "Pfizer", "Novartis", "GSK", "AstraZeneca", "Bayer",
    "Boehringer Ingelheim", "Merck", "Roche", "Takeda", "Servier", "Menarini", "Gedeon Richter",
    "Polpharma", "Alvogen", "Aspen", "Baxter", "B. Braun", "Medochemie", "Actavis", "Wockhardt",
    "Ranbaxy", "Orion Pharma",
)

CUSTOMER_TYPES: tuple[tuple[str, float], ...] = (
    ("pharmacy", 0.70), ("hospital", 0.14), ("clinic", 0.13), ("wholesaler", 0.03),
)

TOWNS: tuple[str, ...] = (
    "Riverside", "Northgate", "Ashford", "Brookfield", "Cedar Hill", "Dunmore", "Elmwood",
    "Fairview", "Glenrock", "Harborough", "Ivybridge", "Kingsbury", "Lakeside", "Millbrook",
    "Newhaven", "Oakridge", "Pinewood", "Queensbury", "Redcliff", "Stonebridge", "Thornton",
    "Upton", "Westfield", "Whitby", "Yarmouth", "Bellmont", "Carrow", "Eastleigh", "Hillcrest",
    "Marston", "Southport", "Wexford",
)

STREETS: tuple[str, ...] = (
    "High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane", "Park Avenue",
    "London Road", "Market Square", "Queen Street", "King's Road", "Bridge Street", "Hospital Way",
    "Chapel Street", "Green Lane", "Orchard Close", "Manor Road",
)

PHARMACY_NAMES: tuple[str, ...] = (
    "Community Pharmacy", "Pharmacy", "Chemists", "Family Pharmacy", "Health Pharmacy",
    "Apothecary", "Medical Pharmacy", "Late-Night Pharmacy",
)
HOSPITAL_NAMES: tuple[str, ...] = (
    "General Hospital", "Royal Infirmary", "Community Hospital", "University Hospital",
    "Children's Hospital", "District Hospital", "St. Mary's Hospital", "St. Luke's Hospital",
)
CLINIC_NAMES: tuple[str, ...] = (
    "Medical Centre", "Health Centre", "Family Practice", "Surgery", "Urgent Care Clinic",
    "Dental & Medical Clinic",
)
WHOLESALER_NAMES: tuple[str, ...] = ("Healthcare Supplies", "Medical Distribution", "Pharma Logistics")

CUSTOMER_NAMES_BY_TYPE: dict[str, tuple[str, ...]] = {
    "pharmacy": PHARMACY_NAMES, "hospital": HOSPITAL_NAMES, "clinic": CLINIC_NAMES,
    "wholesaler": WHOLESALER_NAMES,
}
