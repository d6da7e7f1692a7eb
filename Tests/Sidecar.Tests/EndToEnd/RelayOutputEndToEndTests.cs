using System.Text.Json;
using CaptionSidecar.Relay;
using CaptionSidecar.Tests.Relay;
using CaptionSidecar.Tests.Support;
using NATS.Client.Core;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>The sidecar process with <c>--relay</c>: its captions on NATS, its settings checked at start.</summary>
[Trait("Category", "Integration")]
public sealed class RelayOutputEndToEndTests : IDisposable
{
    private readonly TestFolder _folder = new("caption-relay-out-e2e-");

    public void Dispose() => _folder.Dispose();

    [Fact(Timeout = 60000)]
    public async Task Run_InvalidRelaySettings_FailsAtStartSayingWhatToFixWithoutThePassword()
    {
        await using var sidecar = SidecarProcess.Start(
            ["--engine", "test-pattern", "--no-obs", "--http-port", "0", "--data-dir", _folder.Data,
             "--relay", "http://sidecar:hunter2@127.0.0.1:4222", "--relay-stream", "not a name"]);

        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.True(exit == 2, $"exit {exit}; {sidecar.StderrDetails()}");
        Assert.Contains("Relay:Url (--relay) must be nats://", sidecar.Stderr, StringComparison.Ordinal);
        Assert.Contains("Relay:Stream (--relay-stream)", sidecar.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", sidecar.Stderr + sidecar.Stdout, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120000)]
    public async Task Run_TestPatternEnAndEs_PublishesBothShowsTheRelayInStatusAndClosesThemAtStop()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await NatsServer.StartAsync(["demo"], ct);
        await using var admin = new NatsConnection(new NatsOpts { Url = server.AdminUrl });
        await CaptionBucket.CreateAsync(admin, ct);
        await using var watch = await admin.SubscribeCoreAsync<byte[]>("$KV.captions.>", cancellationToken: ct);
        await using var sidecar = SidecarProcess.Start(
            ["--engine", "test-pattern", "--languages", "es", "--no-obs", "--http-port", "0", "--data-dir", _folder.Data,
             "--relay", server.SidecarUrl, "--relay-stream", "demo"]);
        using var control = await SidecarControl.ConnectAsync(sidecar);

        var finals = new HashSet<string>(StringComparer.Ordinal);
        while (finals.Count < 2)
        {
            var msg = await watch.Msgs.ReadAsync(ct);
            if (msg.Headers?[CaptionSubjects.KindHeader].ToString() == CaptionUpdateKinds.Final)
            {
                finals.Add(msg.Subject);
            }
        }

        Assert.Equal(["$KV.captions.demo.en", "$KV.captions.demo.es"], finals.Order());
        using (var status = JsonDocument.Parse(await control.Http.GetStringAsync("/api/status", ct)))
        {
            var relay = status.RootElement.GetProperty("relay");
            Assert.Equal($"nats://sidecar:***@127.0.0.1:{server.Port}", relay.GetProperty("url").GetString());
            Assert.Equal("demo", relay.GetProperty("stream").GetString());
            Assert.True(relay.GetProperty("connected").GetBoolean());
            Assert.True(relay.GetProperty("published").GetInt64() >= 2);
            Assert.Contains(status.RootElement.GetProperty("outputs").EnumerateArray(), o => o.GetProperty("sink").GetString() == "relay");
        }

        sidecar.Interrupt();
        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct);
        Assert.True(exit == 0, $"exit {exit}; {sidecar.StderrDetails()}");

        // Stopping closes every language on NATS (relays stop listing them) before the sidecar exits.
        var closed = new HashSet<string>(StringComparer.Ordinal);
        while (closed.Count < 2)
        {
            var msg = await watch.Msgs.ReadAsync(ct);
            if (msg.Headers?[CaptionSubjects.KindHeader].ToString() == CaptionUpdateKinds.Closed)
            {
                closed.Add(msg.Subject);
            }
        }

        Assert.Equal(["$KV.captions.demo.en", "$KV.captions.demo.es"], closed.Order());
        var password = new Uri(server.SidecarUrl).UserInfo.Split(':')[1];
        var logs = string.Join('\n', Directory.GetFiles(Path.Combine(_folder.Data, "logs")).Select(File.ReadAllText));
        Assert.Contains("Relay output", logs, StringComparison.Ordinal);
        Assert.DoesNotContain(password, logs + sidecar.Stderr + sidecar.Stdout, StringComparison.Ordinal);
    }
}
