using CaptionSidecar.Tests.Support;
using NATS.Client.Core;
using NATS.Net;

namespace CaptionSidecar.Relay.Tests.Nats;

/// <summary>The users of scripts/nats-headless.sh against a real nats-server: each may do only its part (docs/relay.md).</summary>
[Trait("Category", "Integration")]
public sealed class NatsPermissionTests
{
    [Fact]
    public async Task SidecarUser_PublishesItsStreamButNotAnother()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await NatsServer.StartAsync(["demo"], ct);
        await using var admin = new NatsConnection(new NatsOpts { Url = server.AdminUrl });
        await using var watch = await admin.SubscribeCoreAsync<string>("$KV.captions.>", cancellationToken: ct);
        await using var sidecar = new NatsClient(server.SidecarUrl);
        await sidecar.ConnectAsync();

        await sidecar.PublishAsync(CaptionSubjects.Subject("other", "en"), "forbidden", cancellationToken: ct);
        await sidecar.PublishAsync(CaptionSubjects.Subject("demo", "en"), "allowed", cancellationToken: ct);

        var first = await watch.Msgs.ReadAsync(ct);
        Assert.Equal("$KV.captions.demo.en", first.Subject);
        Assert.Equal("allowed", first.Data);
    }

    [Fact]
    public async Task RelayUser_CannotPublishACaption()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await NatsServer.StartAsync(["demo"], ct);
        await using var admin = new NatsConnection(new NatsOpts { Url = server.AdminUrl });
        await using var watch = await admin.SubscribeCoreAsync<string>(">", cancellationToken: ct);
        await using var relay = new NatsClient(server.RelayUrl);
        await relay.ConnectAsync();

        await relay.PublishAsync(CaptionSubjects.Subject("demo", "en"), "forged", cancellationToken: ct);
        await relay.PublishAsync("captions.demo.en", "forged", cancellationToken: ct);
        // The ping's answer means the server has handled both attempts; the marker is published after that, so had
        // either attempt passed, the watcher would see it before the marker.
        await relay.PingAsync(ct);
        await admin.PublishAsync("marker", "after", cancellationToken: ct);

        var first = await watch.Msgs.ReadAsync(ct);
        Assert.Equal("marker", first.Subject);
    }

    [Fact]
    public async Task WrongPassword_IsRefused()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await NatsServer.StartAsync(["demo"], ct);
        await using var intruder = new NatsClient(new NatsOpts { Url = server.Url("sidecar", "not-the-password"), MaxReconnectRetry = 0 });

        var error = await Assert.ThrowsAnyAsync<NatsException>(async () => await intruder.ConnectAsync());
        Assert.Contains("Authorization", error.ToString(), StringComparison.OrdinalIgnoreCase);
    }
}
