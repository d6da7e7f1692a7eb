using System.Net;
using CaptionSidecar.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace CaptionSidecar.Relay.Tests.Server;

/// <summary>A relay in this process on a loopback port (a free one unless given), as the relay command builds it (its retry: 100 ms, no jitter), serving the stream "demo" unless told otherwise.</summary>
internal sealed class InProcessRelay : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessRelay(WebApplication app, Uri baseUri)
    {
        _app = app;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public RelayMetrics Metrics => _app.Services.GetRequiredService<RelayMetrics>();

    public static async Task<InProcessRelay> StartAsync(string natsUrl, CancellationToken cancellationToken, Action<RelayServerOptions>? configure = null, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (Environment.GetEnvironmentVariable("RELAY_TEST_LOG") is "1")
        {
            builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Debug);
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ApplyRelayLimits();
            kestrel.Listen(IPAddress.Loopback, port);
        });
        builder.Services.Configure<RelayServerOptions>(o =>
        {
            o.Url = natsUrl;
            // Viewers may come before the first update of a listed stream; a test clears it to watch every stream.
            o.Streams = "demo";
            configure?.Invoke(o);
        });
        builder.Services.AddSingleton(new RelayRetryPolicy(new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = int.MaxValue,
                Delay = TimeSpan.FromMilliseconds(100),
                BackoffType = DelayBackoffType.Constant,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(e => e is not OperationCanceledException),
            })
            .Build()));
        builder.Services.AddCaptionRelay();
        var app = builder.Build();
        app.MapCaptionRelay();
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var relay = new InProcessRelay(app, new Uri(address));
        await relay.WaitHealthyAsync(cancellationToken);
        return relay;
    }

    /// <summary>Waits until <c>/healthz</c> answers 200 (connected to NATS, the bucket made, the watch running).</summary>
    public async Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseUri };
        await Poll.UntilAsync(
            async ct => (await http.GetAsync(new Uri("/healthz", UriKind.Relative), ct)).IsSuccessStatusCode,
            "the relay is healthy",
            cancellationToken,
            timeoutMs: 20000);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
