using System.Text.RegularExpressions;
using CaptionSidecar.Relay;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>The real <c>CaptionSidecar relay</c> command against a real nats-server (docs/relay.md).</summary>
[Trait("Category", "Integration")]
public sealed partial class RelayCommandTests : IDisposable
{
    private readonly TestFolder _folder = new("caption-relay-e2e-");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task RelayCommand_MakesTheBucket_ServesViewers_AndNeverLogsThePassword()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var nats = await NatsServer.StartAsync(["demo"], ct);
        var password = new Uri(nats.RelayUrl).UserInfo.Split(':')[1];
        await using var relay = SidecarProcess.Start(["relay", "--nats", nats.RelayUrl, "--http-port", "0", "--bind", "127.0.0.1", "--data-dir", _folder.Data]);
        var baseUri = await ListeningAsync(relay);
        using var http = new HttpClient { BaseAddress = baseUri };
        await Poll.UntilAsync(async token => (await http.GetAsync(new Uri("/healthz", UriKind.Relative), token)).IsSuccessStatusCode,
            "the relay is healthy", ct, timeoutMs: 30000, failIf: relay.ExitedWith, details: relay.StderrDetails);

        // Every stream is served (no --streams): a stream is live once its first update came.
        await using var publisher = new CaptionPublisher(nats.SidecarUrl, "demo");
        var first = await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "Hello viewers", cancellationToken: ct);
        await Poll.UntilAsync(
            async token => await http.GetStringAsync(new Uri("/api/watch/languages?stream=demo", UriKind.Relative), token) == """{"stream":"demo","languages":["en"]}""",
            "the relay lists en", ct, failIf: relay.ExitedWith, details: relay.StderrDetails);
        await using var viewer = await RelayViewer.ConnectAsync(baseUri, "demo", "en", ct);
        Assert.Equal(first.Sequence, (await viewer.NextAsync(ct)).Sequence);
        var second = await publisher.PublishAsync("en", CaptionUpdateKinds.Final, "Hello again", cancellationToken: ct);
        await viewer.WaitForAsync("en", second.Sequence, ct);
        Assert.Equal("Hello again", viewer.All[^1].Lines[0].Final);
        Assert.Contains("relay_nats_connected 1", await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), ct), StringComparison.Ordinal);

        relay.Interrupt();
        Assert.Equal(0, await relay.WaitForExitAsync(TimeSpan.FromSeconds(20), ct));
        Assert.Contains("relay:***@", relay.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(password, relay.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(password, string.Join('\n', Directory.GetFiles(Path.Combine(_folder.Data, "logs")).Select(File.ReadAllText)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidSettings_Exit2_SayingWhatToFix()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var relay = SidecarProcess.Start(
            ["relay", "--nats", "http://relay:hunter2@nats.example", "--http-port", "0", "--streams", "demo,no way", "--allow-origin", "example.com", "--data-dir", _folder.Data]);

        Assert.Equal(2, await relay.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
        Assert.Contains("is not a NATS URL", relay.Stderr, StringComparison.Ordinal);
        Assert.Contains("'no way' is not a stream name", relay.Stderr, StringComparison.Ordinal);
        Assert.Contains("'example.com' is not an origin", relay.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", relay.Stderr, StringComparison.Ordinal);
    }

    /// <summary>The address the relay printed at start.</summary>
    internal static async Task<Uri> ListeningAsync(SidecarProcess relay)
    {
        await relay.WaitForStderrAsync("Relay listening on ", 1, TimeSpan.FromSeconds(60));
        return new Uri(ListeningPattern().Match(relay.Stderr).Groups[1].Value);
    }

    [GeneratedRegex(@"Relay listening on (http://[^,;\s]+)")]
    private static partial Regex ListeningPattern();
}
