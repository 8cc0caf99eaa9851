/** A lightweight-charts chart in the page's colours (its CSS variables), as every chart here draws. */
import { createChart, type IChartApi } from "lightweight-charts"

/** The value of a CSS custom property of the document, or `fallback` when it has none. */
export const cssColor = (name: string, fallback: string) =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback

export const themedChart = (el: HTMLElement): IChartApi => {
  const border = cssColor("--border", "#d9dee6")
  return createChart(el, {
    autoSize: true,
    layout: { background: { color: "transparent" }, textColor: cssColor("--muted", "#5b6676") },
    grid: { vertLines: { color: border }, horzLines: { color: border } },
    // A small minimum spacing lets `fitContent` show every loaded bar, however many there are.
    timeScale: { timeVisible: true, secondsVisible: false, borderColor: border, minBarSpacing: 0.01 },
    rightPriceScale: { borderColor: border }
  })
}
