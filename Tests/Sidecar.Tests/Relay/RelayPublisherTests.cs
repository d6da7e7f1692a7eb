using System.Text.Json;
using CaptionSidecar.Captions;
using CaptionSidecar.Outputs;
using CaptionSidecar.Relay;
using CaptionSidecar.RelayOutput;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace CaptionSidecar.Tests.Relay;

/// <summary>The relay output against a real nats-server with the users of scripts/nats-headless.sh (docs/relay.md).</summary>
[Trait("Category", "Integration")]
public sealed class RelayPublisherTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 3, 11, 0, 0, TimeSpan.Zero);

    private static CaptionUpdate Text(string language, string final, string tentative, int finals = 0) => new(
        language,
        1,
        CaptionUpdateKind.Text,
        [new CaptionLine(final, tentative)],
        [.. Enumerable.Range(1, finals).Select(i => new CaptionItem(language, i, $"item{i}", final, TimeSpan.Zero, TimeSpan.Zero))],
        Start);

    private static CaptionUpdate Cleared(string language) => new(language, 1, CaptionUpdateKind.Cleared, [], [], Start);

    private static RelayPublisher Publisher(string url, string stream, SignallingLogger<RelayPublisher> logger) =>
        new(Options.Create(new RelayPublisherOptions { Url = url, Stream = stream }), TimeProvider.System, logger);

    private static JsonElement Json(NatsMsg<byte[]> msg) => JsonDocument.Parse(msg.Data).RootElement;

    private static string? Kind(NatsMsg<byte[]> msg) => msg.Headers?[CaptionSubjects.KindHeader].ToString();

    [Fact(Timeout = 60000)]
    public async Task Publish_EachKindOfUpdate_LandsInTheBucketsSubjectWithItsKindHeader()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await NatsServer.StartAsync(["demo"], ct);
        await using var admin = new NatsConnection(new NatsOpts { Url = server.AdminUrl });
        var bucket = await CaptionBucket.CreateAsync(admin, ct);
        await using var watch = await admin.SubscribeCoreAsync<byte[]>("$KV.captions.>", cancellationToken: ct);
        var logger = new SignallingLogger<RelayPublisher>();
        await using var publisher = Publisher(server.SidecarUrl, "demo", logger);
        var sink = new RelayCaptionSink(publisher, TimeProvider.System);
        await publisher.StartAsync(ct);
        await logger.NextAsync(m => m.Contains("connected to NATS", StringComparison.Ordinal), ct);

        // One at a time: each is received before the next is written, so none replaces another unpublished.
        var received = new List<NatsMsg<byte[]>>();
        async Task SendAsync(Func<ValueTask> write)
        {
            await write();
            received.Add(await watch.Msgs.ReadAsync(ct));
        }

        await SendAsync(() => sink.WriteAsync(Text("en", "", "Hel"), ct));
        await SendAsync(() => sink.WriteAsync(Text("en", "Hello.", "", finals: 1), ct));
        await SendAsync(() => sink.WriteAsync(Cleared("en"), ct));
        await SendAsync(() => sink.WriteAsync(Text("es", "", "Hola"), ct));
        await SendAsync(() => sink.CloseLanguageAsync("es", ct));

        Assert.Equal(
            [
                ("$KV.captions.demo.en", "tentative"),
                ("$KV.captions.demo.en", "final"),
                ("$KV.captions.demo.en", "cleared"),
                ("$KV.captions.demo.es", "tentative"),
                ("$KV.captions.demo.es", "closed"),
            ],
            received.Select(m => (m.Subject, Kind(m))));
        Assert.Equal("Hello.", Json(received[1]).GetProperty("lines")[0].GetProperty("final").GetString());
        Assert.True(Json(received[2]).GetProperty("cleared").GetBoolean());
        Assert.True(Json(received[4]).GetProperty("cleared").GetBoolean());
        var sequences = received.Take(3).Select(m => Json(m).GetProperty("sequence").GetInt64()).ToList();
        Assert.Equal(sequences.Order(), sequences);
        Assert.Equal(3, sequences.Distinct().Count());

        // The bucket keeps the latest of each key: what a relay starting now would get first.
        var entry = await bucket.GetEntryAsync<byte[]>("demo.en", cancellationToken: ct);
        Assert.Equal(sequences[^1], JsonDocument.Parse(entry.Value!).RootElement.GetProperty("sequence").GetInt64());

        var status = publisher.Status;
        Assert.Equal((true, 5L, 0L, "demo"), (status.Connected, status.Published, status.Dropped, status.Stream));
        Assert.Equal($"nats://sidecar:***@127.0.0.1:{server.Port}", status.Url);
        var password = new Uri(server.SidecarUrl).UserInfo.Split(':')[1];
        Assert.DoesNotContain(logger.Entries, e => e.Message.Contains(password, StringComparison.Ordinal));
        await publisher.StopAsync(ct);
    }

    [Fact(Timeout = 60000)]
    public async Task Publish_AnotherStreamThanTheUsers_RefusedByTheServerLoggedAndInStatus()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await NatsServer.StartAsync(["demo"], ct);
        await using var admin = new NatsConnection(new NatsOpts { Url = server.AdminUrl });
        await CaptionBucket.CreateAsync(admin, ct);
        await using var watch = await admin.SubscribeCoreAsync<byte[]>("$KV.captions.>", cancellationToken: ct);
        var logger = new SignallingLogger<RelayPublisher>();
        await using var publisher = Publisher(server.SidecarUrl, "other", logger);
        var sink = new RelayCaptionSink(publisher, TimeProvider.System);
        await publisher.StartAsync(ct);

        await sink.WriteAsync(Text("en", "Forged.", "", finals: 1), ct);
        var refused = await logger.NextAsync(m => m.Contains("refused", StringComparison.Ordinal), ct);
        // The server has answered the publish (with its refusal); a marker published now comes first if nothing passed.
        await admin.PublishAsync("$KV.captions.demo.marker", "after"u8.ToArray(), cancellationToken: ct);

        Assert.Equal("$KV.captions.demo.marker", (await watch.Msgs.ReadAsync(ct)).Subject);
        Assert.Contains("Permissions Violation", refused, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Permissions Violation", publisher.Status.LastError, StringComparison.OrdinalIgnoreCase);
        await publisher.StopAsync(ct);
    }

    [Fact(Timeout = 90000)]
    public async Task NatsKilledAndRestarted_ReconnectsLogsLossAndReturnOnceAndPublishesTheLatestOfEachLanguage()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await NatsServer.StartAsync(["demo"], ct);
        await using var admin = new NatsConnection(new NatsOpts { Url = server.AdminUrl });
        var bucket = await CaptionBucket.CreateAsync(admin, ct);
        var logger = new SignallingLogger<RelayPublisher>();
        await using var publisher = Publisher(server.SidecarUrl, "demo", logger);
        var sink = new RelayCaptionSink(publisher, TimeProvider.System);
        await publisher.StartAsync(ct);
        await logger.NextAsync(m => m.Contains("connected to NATS", StringComparison.Ordinal), ct);
        await sink.WriteAsync(Text("en", "Before.", "", finals: 1), ct);
        await sink.WriteAsync(Text("es", "Antes.", "", finals: 1), ct);

        await server.KillAsync();
        await logger.NextAsync(m => m.Contains("lost NATS", StringComparison.Ordinal), ct);

        // Captions keep flowing while NATS is away: the sink never waits for it.
        for (var i = 1; i <= 200; i++)
        {
            await sink.WriteAsync(Text("en", $"Line {i}.", "", finals: 1), ct);
            await sink.WriteAsync(Text("es", $"Linea {i}.", "", finals: 1), ct);
        }

        await server.RestartAsync(ct);
        var accepting = System.Diagnostics.Stopwatch.StartNew();
        await logger.NextAsync(m => m.Contains("is back", StringComparison.Ordinal), ct);
        TestContext.Current.SendDiagnosticMessage($"relay output reconnected {accepting.ElapsedMilliseconds} ms after NATS accepted again");
        await sink.WriteAsync(Text("en", "Line 201.", "tail"), ct);

        await Poll.UntilAsync(
            async t => await LatestFinalAsync(bucket, "demo.en", t) == "Line 201." && await LatestFinalAsync(bucket, "demo.es", t) == "Linea 200.",
            "the latest state of en and es in the bucket after the restart",
            ct,
            timeoutMs: 30000,
            details: () => string.Join('\n', logger.Entries.Select(e => e.Message)));

        Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("lost NATS", StringComparison.Ordinal));
        Assert.Single(logger.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("is back", StringComparison.Ordinal));
        Assert.True(publisher.Status.Superseded > 0, "updates written while NATS was away are replaced by the latest, not queued");
        Assert.True(publisher.Status.Connected);
        await publisher.StopAsync(ct);
    }

    [Fact(Timeout = 90000)]
    public async Task FirstConnectFails_SidecarGoesOnAndTheLatestIsPublishedOnceNatsAnswers()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await NatsServer.StartAsync(["demo"], ct);
        await using (var setup = new NatsConnection(new NatsOpts { Url = server.AdminUrl }))
        {
            await CaptionBucket.CreateAsync(setup, ct);
        }

        await server.KillAsync();
        var logger = new SignallingLogger<RelayPublisher>();
        await using var publisher = Publisher(server.SidecarUrl, "demo", logger);
        var sink = new RelayCaptionSink(publisher, TimeProvider.System);
        await publisher.StartAsync(ct);
        await logger.NextAsync(m => m.Contains("cannot reach NATS", StringComparison.Ordinal), ct);
        for (var i = 1; i <= 50; i++)
        {
            await sink.WriteAsync(Text("en", $"Line {i}.", "", finals: 1), ct);
        }

        await server.RestartAsync(ct);
        await logger.NextAsync(m => m.Contains("is back", StringComparison.Ordinal), ct);
        await using var admin = new NatsConnection(new NatsOpts { Url = server.AdminUrl });
        var bucket = await new NatsKVContext(new NatsJSContext(admin)).GetStoreAsync(CaptionSubjects.Bucket, ct);

        await Poll.UntilAsync(
            async t => await LatestFinalAsync(bucket, "demo.en", t) == "Line 50.",
            "the latest en line in the bucket",
            ct,
            timeoutMs: 30000);
        Assert.Single(logger.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("cannot reach NATS", StringComparison.Ordinal));
        await publisher.StopAsync(ct);
    }

    private static async Task<string?> LatestFinalAsync(INatsKVStore bucket, string key, CancellationToken cancellationToken)
    {
        try
        {
            var entry = await bucket.GetEntryAsync<byte[]>(key, cancellationToken: cancellationToken);
            return JsonDocument.Parse(entry.Value!).RootElement.GetProperty("lines")[0].GetProperty("final").GetString();
        }
        catch (NatsKVKeyNotFoundException)
        {
            return null;
        }
        catch (NatsException)
        {
            // The admin connection is still reconnecting.
            return null;
        }
    }
}
