// PLACEHOLDER (contract only): the fake-server helper replaces this file.
namespace CaptionSidecar.FakeRealtime;

public sealed class FakeRealtimeOptions
{
    public FakeScript Script { get; init; } = FakeScript.FromLines([]);
}

public sealed class FakeScript
{
    public static FakeScript FromLines(IEnumerable<string> lines) => throw new NotImplementedException();
}

public sealed class FakeSession
{
    public bool IsOpen => throw new NotImplementedException();

    public IReadOnlyList<(TimeSpan Start, TimeSpan End)> SpeechSpans => throw new NotImplementedException();
}

public sealed class FakeFaults
{
    public Task SendMalformedJsonAsync() => throw new NotImplementedException();
}

public sealed class FakeRealtimeServer : IAsyncDisposable
{
    public Uri Endpoint => throw new NotImplementedException();

    public IReadOnlyList<FakeSession> Sessions => throw new NotImplementedException();

    public FakeFaults Faults => throw new NotImplementedException();

    public static Task<FakeRealtimeServer> StartAsync(FakeRealtimeOptions options) => throw new NotImplementedException();

    public Task WaitForSessionsAsync(Func<IReadOnlyList<FakeSession>, bool> predicate, TimeSpan timeout) => throw new NotImplementedException();

    public ValueTask DisposeAsync() => throw new NotImplementedException();
}
