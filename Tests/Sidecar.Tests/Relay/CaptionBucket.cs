using CaptionSidecar.Relay;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace CaptionSidecar.Tests.Relay;

/// <summary>The captions bucket as a relay creates it (docs/relay.md), made by the tests as admin.</summary>
internal static class CaptionBucket
{
    /// <summary>Creates bucket <c>captions</c>: history 1, file storage, max age 24 h, values up to 64 KiB.</summary>
    public static async Task<INatsKVStore> CreateAsync(NatsConnection admin, CancellationToken cancellationToken)
    {
        var kv = new NatsKVContext(new NatsJSContext(admin));
        return await kv.CreateStoreAsync(
            new NatsKVConfig(CaptionSubjects.Bucket)
            {
                History = 1,
                Storage = NatsKVStorageType.File,
                MaxAge = TimeSpan.FromHours(24),
                MaxValueSize = CaptionSubjects.MaxPayloadBytes,
            },
            cancellationToken);
    }
}
