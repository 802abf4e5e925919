// The teacher service's messages (teacher.proto) under short names, for the coordinator that sends
// shards and the teacher workers that answer them.
public typealias ItemFacts = Prism_V1_ItemFacts
public typealias Decoding = Prism_V1_Decoding
public typealias TeacherPrompt = Prism_V1_TeacherPrompt
public typealias TeacherShard = Prism_V1_TeacherShard
public typealias TeacherResult = Prism_V1_TeacherResult
public typealias TeacherShardResult = Prism_V1_TeacherShardResult

// The explanation service's messages (explain.proto), for its clients, workers and the HTTP gateway.
public typealias ExplainRequest = Prism_V1_ExplainRequest
public typealias Ranking = Prism_V1_Ranking
public typealias ExplainReply = Prism_V1_ExplainReply
