// Standalone entry point of the fake Realtime server (see FakeRealtimeServer).
Console.Error.WriteLine("FakeRealtime: not built yet.");
return 2;
