namespace CaptionSidecar.Relay.Tests.Server;

/// <summary>Which pages may open the feed.</summary>
public sealed class OriginPolicyTests
{
    [Fact]
    public void OwnOrigin_AndNoOrigin_AreAllowed_OthersNot()
    {
        var policy = new OriginPolicy([]);
        Assert.True(policy.Allows(null, "http", "relay.example.com:8080"));
        Assert.True(policy.Allows("http://relay.example.com:8080", "http", "relay.example.com:8080"));
        // Behind a TLS proxy the page is https while the relay sees http.
        Assert.True(policy.Allows("https://relay.example.com", "http", "relay.example.com"));
        Assert.False(policy.Allows("https://evil.example", "http", "relay.example.com:8080"));
        Assert.False(policy.Allows("null", "http", "relay.example.com:8080"));
    }

    [Fact]
    public void ConfiguredOrigins_AreAllowed_CaseAndDefaultPortAside()
    {
        var policy = new OriginPolicy(["https://Streamer.Example", "http://localhost:3000"]);
        Assert.True(policy.Allows("https://streamer.example", "http", "relay:8080"));
        Assert.True(policy.Allows("https://streamer.example:443", "http", "relay:8080"));
        Assert.True(policy.Allows("http://localhost:3000", "http", "relay:8080"));
        Assert.False(policy.Allows("http://localhost:3001", "http", "relay:8080"));
        Assert.Equal("https://streamer.example http://localhost:3000", policy.SourceList);
    }

    [Fact]
    public void Star_OpensToAll()
    {
        var policy = new OriginPolicy(["*"]);
        Assert.True(policy.Allows("https://anything.example", "http", "relay:8080"));
        Assert.Equal("*", policy.SourceList);
    }
}
