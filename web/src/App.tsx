import { Loader } from '@mantine/core';
import { MedplumProvider } from '@medplum/react-hooks';
import { Suspense, lazy, useEffect, useState } from 'react';
import type { ReactNode } from 'react';
import { SignIn } from './auth/SignIn';
import { SignUp } from './auth/SignUp';
import { navigate, usePath } from './router';
import type { Caller } from './session';
import { currentCaller, medplum } from './session';
import { ErrorBoundary } from './ui/ErrorBoundary';
import { Shell } from './ui/Shell';

// The signed-in screens are their own chunks: the sign-in page loads none of them (nor the charts).
const ForgotPassword = lazy(() => import('./auth/ForgotPassword'));
const ResetPassword = lazy(() => import('./auth/ResetPassword'));
const Dashboard = lazy(() => import('./patient/Dashboard'));
const MyProviders = lazy(() => import('./sharing/MyProviders'));
const AccessLog = lazy(() => import('./access-log/AccessLog'));
const MyPatients = lazy(() => import('./provider/MyPatients'));
const PatientChart = lazy(() => import('./provider/PatientChart'));
const Messages = lazy(() => import('./messages/Messages'));
const MyVisits = lazy(() => import('./appointments/MyVisits'));
const Agenda = lazy(() => import('./appointments/Agenda'));

function home(caller: Caller): string {
  return caller.resourceType === 'Patient'
    ? '/dashboard'
    : caller.resourceType === 'Practitioner'
      ? '/patients'
      : '/signin';
}

const ID = '([A-Za-z0-9\\-.]{1,64})';

/** The screens both patients and providers have. */
function sharedScreen(path: string, caller: Caller): ReactNode {
  if (path === '/messages') {
    return <Messages me={caller.fhirUser} />;
  }
  const thread = new RegExp(`^/messages/${ID}$`).exec(path);
  if (thread?.[1]) {
    return <Messages me={caller.fhirUser} threadId={thread[1]} />;
  }
  return undefined;
}

function screen(path: string, caller: Caller): ReactNode {
  if (caller.resourceType === 'Patient' || caller.resourceType === 'Practitioner') {
    const shared = sharedScreen(path, caller);
    if (shared) {
      return shared;
    }
  }
  if (caller.resourceType === 'Patient') {
    if (path === '/dashboard') {
      return <Dashboard patientId={caller.id} />;
    }
    if (path === '/appointments') {
      return <MyVisits patientId={caller.id} />;
    }
    if (path === '/providers') {
      return <MyProviders patientId={caller.id} />;
    }
    if (path === '/access-log') {
      return <AccessLog patientId={caller.id} />;
    }
  }
  if (caller.resourceType === 'Practitioner') {
    if (path === '/patients') {
      return <MyPatients />;
    }
    if (path === '/schedule') {
      return <Agenda me={caller.fhirUser} />;
    }
    const chart = new RegExp(`^/patients/${ID}$`).exec(path);
    if (chart?.[1]) {
      return <PatientChart patientId={chart[1]} />;
    }
  }
  return undefined;
}

/** The screens anyone may open, signed in or not. */
function openScreen(path: string): ReactNode {
  switch (path) {
    case '/signup':
      return <SignUp />;
    case '/forgot-password':
      return <ForgotPassword />;
    case '/reset-password':
      return <ResetPassword />;
    default:
      return undefined;
  }
}

export function App(): ReactNode {
  const path = usePath();
  const [ready, setReady] = useState(medplum.isInitialized);
  useEffect(() => {
    void medplum.getInitPromise().then(() => setReady(true));
  }, []);
  if (!ready) {
    return <Loader aria-label="Loading" m="xl" />;
  }
  const caller = currentCaller();
  const open = openScreen(path);
  if (open) {
    return (
      <Shell>
        <Suspense fallback={<Loader aria-label="Loading" />}>{open}</Suspense>
      </Shell>
    );
  }
  if (!caller || path === '/signin') {
    return (
      <Shell>
        <SignIn signedIn={caller ? home(caller) : undefined} />
      </Shell>
    );
  }
  const content = screen(path, caller);
  if (!content) {
    // Unknown or someone else's screen: go to this person's own start page.
    queueMicrotask(() => navigate(home(caller), true));
    return null;
  }
  return (
    <MedplumProvider medplum={medplum} navigate={navigate}>
      <Shell caller={caller}>
        <ErrorBoundary>
          <Suspense fallback={<Loader aria-label="Loading" />}>{content}</Suspense>
        </ErrorBoundary>
      </Shell>
    </MedplumProvider>
  );
}
