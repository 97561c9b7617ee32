// nodemailer ships no types; this declares the one call entrasync makes.
declare module 'nodemailer' {
  export interface MailMessage {
    from: string;
    to: string[];
    subject: string;
    text: string;
  }
  export interface Transporter {
    sendMail(message: MailMessage): Promise<unknown>;
    close(): void;
  }
  export function createTransport(url: string): Transporter;
  const nodemailer: { createTransport: typeof createTransport };
  export default nodemailer;
}
