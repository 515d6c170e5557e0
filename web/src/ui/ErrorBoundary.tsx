import { Component } from 'react';
import type { ErrorInfo, ReactNode } from 'react';
import { ErrorText } from './ErrorText';
import { errorSentence } from '../errors';

/** A screen that throws shows what went wrong instead of leaving a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error?: string }> {
  override state: { error?: string } = {};

  static getDerivedStateFromError(err: unknown): { error: string } {
    return { error: errorSentence(err) };
  }

  override componentDidCatch(err: unknown, info: ErrorInfo): void {
    console.error(err, info.componentStack);
  }

  override render(): ReactNode {
    return this.state.error ? <ErrorText error={this.state.error} /> : this.props.children;
  }
}
