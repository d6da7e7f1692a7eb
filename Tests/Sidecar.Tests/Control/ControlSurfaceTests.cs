using System.Text.Json;
using CaptionSidecar.Captions;
using CaptionSidecar.Control;
using CaptionSidecar.Hosting;
using CaptionSidecar.Overlay;
using CaptionSidecar.Tracks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.Control;

public sealed class ControlSurfaceTests
{
    [Theory]
    [InlineData(double.NegativeInfinity)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NaN)]
    public void Dbfs_NoFiniteLevel_IsNull(double level)
    {
        Assert.Null(ControlSurface.Dbfs(level));
    }

    [Fact]
    public void Dbfs_Level_RoundedToATenth()
    {
        Assert.Equal(-6.0, ControlSurface.Dbfs(-6.0206));
        Assert.Null(ControlSurface.Dbfs(null));
    }

    [Fact]
    public void AddControlServer_TheSidecarTurnsOnInlineSchedulingForItsOwnServer()
    {
        var builder = WebApplication.CreateSlimBuilder();

        builder.Services.AddControlServer(builder.WebHost, builder.Configuration, new DataFolders(Path.GetTempPath()));
        using var provider = builder.Services.BuildServiceProvider();

        Assert.True(provider.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling);
    }

    [Fact]
    public void ControlStatus_SilentAudio_SerializesLevelsAsNull()
    {
        var status = new ControlStatus("openai", 1, [], "off", ControlSurface.Dbfs(double.NegativeInfinity), 0, 0, [], [],
            AudioRmsDbfs: ControlSurface.Dbfs(double.NegativeInfinity), Speech: false);

        var json = JsonSerializer.Serialize(status, ControlJsonContext.Default.ControlStatus);

        Assert.Contains("\"audioLevelDbfs\":null", json, StringComparison.Ordinal);
        Assert.Contains("\"audioRmsDbfs\":null", json, StringComparison.Ordinal);
        Assert.Contains("\"speech\":false", json, StringComparison.Ordinal);
        Assert.DoesNotContain("Infinity", json, StringComparison.Ordinal);
    }

    [Fact]
    public void GetStatus_TheDocumentTheControlPageReads_HasItsFieldNamesAndShapes()
    {
        var surface = new FakeControlSurface(new LanguageState("en", "English", true))
        {
            Status = new ControlStatus(
                "openai",
                3725,
                [
                    new TrackStatus("en", TrackSessionState.Connected, Rollovers: 3, RateLimits: [new RateLimitStatus("requests", 100, 90, 1.5)]),
                    new TrackStatus("es", TrackSessionState.Reconnecting, LastError: "socket closed", Reconnects: 1, WatchdogRestarts: 2),
                ],
                "connected",
                -18.5,
                3,
                12,
                [new RateLimitStatus("requests", 100, 90, 1.5)],
                ["es: socket closed"],
                Outputs: [new CaptionSinkStats("transcript", 10, 0, 2, 1)]),
        };

        // Through the control surface's interface, as the overlay library's /api/status gets it.
        var root = ((IControlSurface)surface).GetStatus();

        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal("openai", root.GetProperty("engine").GetString());
        Assert.Equal(3725, root.GetProperty("uptimeSeconds").GetDouble());
        var es = root.GetProperty("tracks")[1];
        Assert.Equal("es", es.GetProperty("language").GetString());
        Assert.Equal("reconnecting", es.GetProperty("sessionState").GetString());
        Assert.Equal("socket closed", es.GetProperty("lastError").GetString());
        Assert.Equal(1, es.GetProperty("reconnects").GetInt32());
        Assert.Equal(2, es.GetProperty("watchdogRestarts").GetInt32());
        Assert.Equal(3, root.GetProperty("tracks")[0].GetProperty("rollovers").GetInt32());
        Assert.Equal("connected", root.GetProperty("tracks")[0].GetProperty("sessionState").GetString());
        var limit = root.GetProperty("rateLimits")[0];
        Assert.Equal("requests", limit.GetProperty("name").GetString());
        Assert.Equal(90, limit.GetProperty("remaining").GetInt64());
        Assert.Equal(100, limit.GetProperty("limit").GetInt64());
        Assert.Equal("es: socket closed", root.GetProperty("recentErrors")[0].GetString());
        Assert.Equal("transcript", root.GetProperty("outputs")[0].GetProperty("sink").GetString());
        Assert.Equal(2, root.GetProperty("outputs")[0].GetProperty("failed").GetInt64());
        Assert.Equal("connected", root.GetProperty("obsState").GetString());
        Assert.Equal(-18.5, root.GetProperty("audioLevelDbfs").GetDouble());
        Assert.Equal(3, root.GetProperty("droppedAudioChunks").GetInt64());
        Assert.Equal(12, root.GetProperty("captionsPerMinute").GetDouble());
    }
}
