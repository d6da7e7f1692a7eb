namespace CaptionSidecar.Relay.Tests.Server;

/// <summary>The relay's settings are checked at start with a message saying what to fix.</summary>
public sealed class RelayOptionsTests
{
    [Fact]
    public void ValidSettings_HaveNoFailures()
    {
        var options = new RelayServerOptions { Url = "tls://relay:secret@nats.example.com:4222", Streams = "demo, Other-1", HttpPort = 8080, Bind = "0.0.0.0" };
        options.AllowedOrigins.Add("https://example.com");
        options.AllowedOrigins.Add("*");
        options.ForwardedFor.Add("127.0.0.1");

        Assert.Empty(options.Validate());
        Assert.Equal(["demo", "other-1"], options.StreamList());
    }

    [Theory]
    [InlineData(null, "--nats")]
    [InlineData("http://host:4222", "not a NATS URL")]
    [InlineData("nats//host", "not a NATS URL")]
    public void BadUrl_SaysWhatToGive(string? url, string expected)
    {
        var failure = Assert.Single(new RelayServerOptions { Url = url }.Validate());
        Assert.Contains(expected, failure, StringComparison.Ordinal);
    }

    [Fact]
    public void BadUrl_MessageHasNoPassword()
    {
        var failure = Assert.Single(new RelayServerOptions { Url = "http://relay:hunter2@host" }.Validate());
        Assert.DoesNotContain("hunter2", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void BadStreamOriginProxyAndCaps_AreEachNamed()
    {
        var options = new RelayServerOptions { Url = "nats://h:4222", Streams = "demo,bad name", Bind = "everywhere", HttpPort = 70000, MaxViewers = 0 };
        options.AllowedOrigins.Add("example.com");
        options.AllowedOrigins.Add("https://example.com/page");
        options.ForwardedFor.Add("nginx");

        var failures = options.Validate();

        Assert.Contains(failures, f => f.Contains("'bad name' is not a stream name", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("'example.com' is not an origin", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("'https://example.com/page' is not an origin", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("--forwarded-for 'nginx'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("--bind 'everywhere'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("--http-port 70000", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("MaxViewers 0", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("nats://relay:s3cret@host:4222", "nats://relay:***@host:4222")]
    [InlineData("tls://user:p@ss:w@host:4222", "tls://user:***@host:4222")]
    [InlineData("nats://host:4222", "nats://host:4222")]
    [InlineData("nats://token@host:4222", "nats://token@host:4222")]
    public void RedactUrl_HidesThePassword(string url, string expected) => Assert.Equal(expected, RelayServerOptions.RedactUrl(url));
}
