/** Amounts in an account's quote currency, with two decimals, and UTC bar times as the tables show them. */
const money = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })

export const formatMoney = (n: number): string => money.format(n)

/** A signed amount (PnL): "+12.50", "−3.00". */
export const formatSigned = (n: number): string => (n > 0 ? `+${money.format(n)}` : money.format(n))

export const formatPercent = (share: number): string => `${(share * 100).toFixed(2)} %`

/** A bar's open time (epoch ms) as `2024-01-02 13:04` (UTC). */
export const barTime = (ms: number): string => new Date(ms).toISOString().replace("T", " ").slice(0, 16)
