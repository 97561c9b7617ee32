export function HistoryPage() {
  return null;
}
export function RunPage() {
  return null;
}
