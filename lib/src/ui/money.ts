// Prices as a shop shows them: $15.99, $1,250.00.
const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

export const formatMoney = (amount: number) => usd.format(amount);

const count = new Intl.NumberFormat("en-US");

/** Whole numbers with thousands separators: 1,000,000. */
export const formatCount = (n: number) => count.format(n);
