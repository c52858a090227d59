import { Link } from '../router';
import { Page } from '../ui';

export function NotFound() {
  return (
    <Page title="Page not found" narrow>
      <p>There is no page at this address. It may have moved, or the link may be mistyped.</p>
      <p>
        <Link to="/">Go to the home page</Link>
      </p>
    </Page>
  );
}
