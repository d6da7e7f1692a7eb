namespace CaptionSidecar.FakeRealtime;

/// <summary>
/// The fake server runs inside a test process or <c>Program</c>, which own Ctrl+C and SIGTERM; the default console
/// lifetime would stop Kestrel behind their back on a signal.
/// </summary>
internal sealed class EmbeddedHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
