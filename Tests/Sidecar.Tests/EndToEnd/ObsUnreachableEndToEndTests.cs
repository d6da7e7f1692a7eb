using System.Net;
using System.Net.Sockets;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>The first thing a new user sees when OBS is not running: one readable line, no stack trace.</summary>
[Trait("Category", "Integration")]
public sealed class ObsUnreachableEndToEndTests : IDisposable
{
    private readonly TestFolder _folder = new("caption-obs-unreachable-");

    public void Dispose() => _folder.Dispose();

    [Fact(Timeout = 120000)]
    public async Task Run_ObsNotRunning_OneReadableWarningWithoutAStackTrace()
    {
        var ct = TestContext.Current.CancellationToken;
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port; // free once the listener is stopped: connections are refused
        }

        await using var sidecar = SidecarProcess.Start(["--engine", "test-pattern", "--obs-url", $"ws://127.0.0.1:{port}",
            "--http-port", "0", "--data-dir", _folder.Data]);
        await sidecar.WaitForStderrAsync("OBS is not reachable", 1, TimeSpan.FromSeconds(60));
        await sidecar.WaitForStderrAsync("Control page", 1, TimeSpan.FromSeconds(60));
        sidecar.Interrupt();
        await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct);

        Assert.Contains($"OBS is not reachable at ws://127.0.0.1:{port} (connection refused): start OBS and enable its WebSocket server", sidecar.Stderr,
            StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", sidecar.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", sidecar.Stderr, StringComparison.Ordinal);
    }
}
